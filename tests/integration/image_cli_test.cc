// The `stack` CLI's image verbs as a user drives them, each against a private
// --image-root: load (docker-save archives, OCI layouts as a directory and as
// a tar), import with --change, ls/inspect, rm of images sharing layers,
// prune, refusal of hostile archives leaving the store untouched, and (with
// the loopback registry fixture) push + pull.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/image/digest.h"
#include "tests/support/bundle.h"
#include "tests/support/registry_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;
using stack::test::CmdResult;
using stack::test::TempDir;

namespace {

std::string sha_hex_of_file(const std::string& path) {
  return stack::img::sha256_of(stack::test::read_file(path)).hex;
}

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class ImageCli : public ::testing::Test {
 protected:
  TempDir work_{"stack-img-cli"};
  std::string root() const { return work_.path() + "/store"; }

  CmdResult stack(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {stack::test::binary("stack"), "--image-root", root()};
    argv.insert(argv.end(), args.begin(), args.end());
    return stack::test::run(argv, input);
  }

  // A busybox rootfs tar with `extra` files (name -> content); returns its path.
  std::string rootfs_tar(const std::string& name, const std::map<std::string, std::string>& extra = {}) {
    std::string dir = work_.path() + "/" + name + ".d";
    fs::create_directories(dir + "/bin");
    fs::create_directories(dir + "/etc");
    fs::copy_file("/bin/busybox", dir + "/bin/busybox", fs::copy_options::overwrite_existing);
    for (const char* a : {"sh", "echo", "cat"}) {
      std::error_code ec;
      fs::create_symlink("busybox", dir + "/bin/" + a, ec);
    }
    for (auto& [n, c] : extra) write(dir + "/" + n, c);
    std::string tar = work_.path() + "/" + name + ".tar";
    CmdResult r = stack::test::run({"tar", "--numeric-owner", "-C", dir, "-cf", tar, "."});
    EXPECT_EQ(r.status, 0) << r.err;
    return tar;
  }

  // A file-only layer tar (name -> content).
  std::string layer_tar(const std::string& name, const std::map<std::string, std::string>& files) {
    std::string dir = work_.path() + "/" + name + ".d";
    for (auto& [n, c] : files) write(dir + "/" + n, c);
    std::string tar = work_.path() + "/" + name + ".tar";
    CmdResult r = stack::test::run({"tar", "--numeric-owner", "-C", dir, "-cf", tar, "."});
    EXPECT_EQ(r.status, 0) << r.err;
    return tar;
  }

  static std::string config_for(const std::vector<std::string>& layer_tars, const std::vector<std::string>& cmd) {
    json diff = json::array();
    for (auto& l : layer_tars) diff.push_back("sha256:" + sha_hex_of_file(l));
    return json{{"architecture", "amd64"},
                {"os", "linux"},
                {"created", "2024-01-02T03:04:05Z"},
                {"config", {{"Cmd", cmd}}},
                {"rootfs", {{"type", "layers"}, {"diff_ids", diff}}}}
        .dump();
  }

  // A `docker save` archive made by hand: <id>/layer.tar, <hex>.json,
  // manifest.json. `layer_names` overrides the names written into
  // manifest.json (to make hostile ones).
  std::string docker_save(const std::string& name, const std::vector<std::string>& layer_tars,
                          const std::vector<std::string>& repo_tags,
                          std::vector<std::string> layer_names = {}) {
    std::string dir = work_.path() + "/" + name + ".save";
    fs::create_directories(dir);
    std::string cfg = config_for(layer_tars, {"/bin/sh"});
    std::string cfg_hex = stack::img::sha256_of(cfg).hex;
    write(dir + "/" + cfg_hex + ".json", cfg);
    json layers = json::array();
    for (size_t i = 0; i < layer_tars.size(); i++) {
      std::string id = sha_hex_of_file(layer_tars[i]);
      fs::create_directories(dir + "/" + id);
      fs::copy_file(layer_tars[i], dir + "/" + id + "/layer.tar", fs::copy_options::overwrite_existing);
      layers.push_back(i < layer_names.size() ? layer_names[i] : id + "/layer.tar");
    }
    json manifest = json::array({{{"Config", cfg_hex + ".json"}, {"RepoTags", repo_tags}, {"Layers", layers}}});
    write(dir + "/manifest.json", manifest.dump());
    std::string tar = work_.path() + "/" + name + ".save.tar";
    CmdResult r = stack::test::run({"tar", "-C", dir, "-cf", tar, "."});
    EXPECT_EQ(r.status, 0) << r.err;
    return tar;
  }

  // An OCI layout directory made by hand (blobs/sha256/<hex>).
  std::string oci_layout(const std::string& name, const std::string& layer, const std::string& ref_name) {
    std::string dir = work_.path() + "/" + name + ".oci";
    auto put = [&](const std::string& bytes) {
      std::string hex = stack::img::sha256_of(bytes).hex;
      write(dir + "/blobs/sha256/" + hex, bytes);
      return json{{"digest", "sha256:" + hex}, {"size", bytes.size()}};
    };
    std::string layer_bytes = stack::test::read_file(layer);
    json ldesc = put(layer_bytes);
    ldesc["mediaType"] = "application/vnd.oci.image.layer.v1.tar";
    json cdesc = put(config_for({layer}, {"/bin/echo", "oci"}));
    cdesc["mediaType"] = "application/vnd.oci.image.config.v1+json";
    json m = {{"schemaVersion", 2},
              {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
              {"config", cdesc},
              {"layers", json::array({ldesc})}};
    json mdesc = put(m.dump());
    mdesc["mediaType"] = "application/vnd.oci.image.manifest.v1+json";
    mdesc["annotations"] = {{"org.opencontainers.image.ref.name", ref_name}};
    write(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    write(dir + "/index.json", json{{"schemaVersion", 2},
                                    {"mediaType", "application/vnd.oci.image.index.v1+json"},
                                    {"manifests", json::array({mdesc})}}
                                   .dump());
    return dir;
  }

  std::set<std::string> blobs() const {
    std::set<std::string> out;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(root() + "/blobs/sha256", ec)) out.insert(e.path().filename());
    return out;
  }
  size_t ingest_entries() const {
    std::error_code ec;
    size_t n = 0;
    for (auto it = fs::directory_iterator(root() + "/ingest", ec); !ec && it != fs::directory_iterator(); ++it) n++;
    return n;
  }
  static bool one_line(const std::string& err) {
    return err.rfind("stack: ", 0) == 0 && err.find('\n') == err.size() - 1;
  }
};

TEST_F(ImageCli, LoadsADockerSaveArchiveAndListsIt) {
  std::string l1 = rootfs_tar("base");
  std::string l2 = layer_tar("top", {{"etc/motd", "hello\n"}});
  std::string archive = docker_save("demo", {l1, l2}, {"demo:1", "example.com/team/demo:2"});
  CmdResult r = stack({"image", "load", "-i", archive});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Loaded image: demo:1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Loaded image: example.com/team/demo:2"), std::string::npos) << r.out;

  // The same archive again, on stdin as `docker load < file`: nothing new.
  const auto before = blobs();
  r = stack({"image", "load"}, stack::test::read_file(archive));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Loaded image: demo:1"), std::string::npos) << r.out;
  EXPECT_EQ(blobs(), before);

  CmdResult ls = stack({"images"});
  ASSERT_EQ(ls.status, 0) << ls.err;
  EXPECT_NE(ls.out.find("demo "), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("example.com/team/demo"), std::string::npos) << ls.out;

  // Layers are stored as given (uncompressed) under their own digests, in an
  // OCI manifest built for them.
  CmdResult in = stack({"image", "inspect", "demo:1"});
  ASSERT_EQ(in.status, 0) << in.err;
  json j = json::parse(in.out)[0];
  ASSERT_EQ(j["Manifest"]["layers"].size(), 2u);
  EXPECT_EQ(j["Manifest"]["layers"][0]["digest"], "sha256:" + sha_hex_of_file(l1));
  EXPECT_EQ(j["Manifest"]["layers"][1]["mediaType"], "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(j["Config"]["config"]["Cmd"], json::array({"/bin/sh"}));
  EXPECT_EQ(ingest_entries(), 0u);

  // Two names for one image: removing one only untags.
  CmdResult rm = stack({"image", "rm", "demo:1"});
  ASSERT_EQ(rm.status, 0) << rm.err;
  EXPECT_EQ(rm.out, "Untagged: demo:1\n");
  EXPECT_EQ(blobs(), before);
  EXPECT_EQ(stack({"image", "inspect", "example.com/team/demo:2"}).status, 0);
}

// `stack` itself loads no image library (libarchive pulls in libxml2 and
// ICU's 31 MB of data, OpenSSL two more): every `ps` or `logs` would pay for
// them at start. The offline verbs above run in `stack-image`, which `stack`
// execs with the same command line; without it, the error says what is
// missing and nothing is done.
TEST_F(ImageCli, TheStackBinaryHandsOfflineVerbsToStackImage) {
  CmdResult deps = stack::test::run({"ldd", stack::test::binary("stack")});
  ASSERT_EQ(deps.status, 0) << deps.err;
  for (const char* lib : {"libarchive", "libxml2", "libicu", "libssl", "libcrypto", "libsqlite3"})
    EXPECT_EQ(deps.out.find(lib), std::string::npos) << lib << " in\n" << deps.out;
  CmdResult image_deps = stack::test::run({"ldd", stack::test::binary("stack-image")});
  EXPECT_NE(image_deps.out.find("libarchive"), std::string::npos) << image_deps.out;

  // Alone in a directory, with no stack-image on PATH either.
  std::string alone = work_.path() + "/alone";
  fs::create_directories(alone);
  fs::copy_file(stack::test::binary("stack"), alone + "/stack");
  CmdResult r = stack::test::run({"env", "PATH=/usr/bin:/bin", alone + "/stack", "--image-root", root(), "images"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("stack: run stack-image (the CLI's image tool, installed beside stack): No such file or directory"),
            std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(root()));
}

// Docker 25+ writes the layers as blobs/sha256/<hex> (with an OCI layout
// alongside) and deduplicates repeated layers with in-archive symlinks.
TEST_F(ImageCli, LoadsANewerDockerSaveWithBlobsAndLayerLinks) {
  std::string l1 = rootfs_tar("base");
  std::string l2 = layer_tar("top", {{"etc/motd", "hello\n"}});
  std::string dir = work_.path() + "/new.save";
  std::string h1 = sha_hex_of_file(l1), h2 = sha_hex_of_file(l2);
  fs::create_directories(dir + "/blobs/sha256");
  fs::copy_file(l1, dir + "/blobs/sha256/" + h1);
  fs::copy_file(l2, dir + "/blobs/sha256/" + h2);
  // The same base layer again, as a link back to the first copy.
  fs::create_directories(dir + "/again");
  fs::create_symlink("../blobs/sha256/" + h1, dir + "/again/layer.tar");
  std::string cfg = config_for({l1, l2, l1}, {"/bin/sh"});
  std::string ch = stack::img::sha256_of(cfg).hex;
  write(dir + "/blobs/sha256/" + ch, cfg);
  write(dir + "/manifest.json",
        json::array({{{"Config", "blobs/sha256/" + ch},
                      {"RepoTags", {"newer:1"}},
                      {"Layers", {"blobs/sha256/" + h1, "blobs/sha256/" + h2, "again/layer.tar"}}}})
            .dump());
  write(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  write(dir + "/index.json", R"({"schemaVersion":2,"manifests":[]})");
  std::string tar = work_.path() + "/new.save.tar";
  ASSERT_EQ(stack::test::run({"tar", "-C", dir, "-cf", tar, "."}).status, 0);
  CmdResult r = stack({"image", "load", "-i", tar});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Loaded image: newer:1"), std::string::npos) << r.out;
  json j = json::parse(stack({"image", "inspect", "newer:1"}).out)[0];
  ASSERT_EQ(j["Manifest"]["layers"].size(), 3u);
  EXPECT_EQ(j["Manifest"]["layers"][2]["digest"], "sha256:" + h1);
  EXPECT_EQ(blobs().size(), 4u);  // two layers, config, manifest

  // A link that leaves the archive is refused, naming the entry.
  fs::remove(dir + "/again/layer.tar");
  fs::create_symlink("../../" + fs::path(l1).filename().string(), dir + "/again/layer.tar");
  write(dir + "/manifest.json",
        json::array({{{"Config", "blobs/sha256/" + ch},
                      {"RepoTags", {"escape:1"}},
                      {"Layers", {"blobs/sha256/" + h1, "blobs/sha256/" + h2, "again/layer.tar"}}}})
            .dump());
  ASSERT_EQ(stack::test::run({"tar", "-C", dir, "-cf", tar, "."}).status, 0);
  const auto before = blobs();
  r = stack({"image", "load", "-i", tar});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("again/layer.tar"), std::string::npos) << r.err;
  EXPECT_EQ(blobs(), before);
  EXPECT_EQ(stack({"image", "inspect", "escape:1"}).status, 1);
}

TEST_F(ImageCli, LoadsAnOciLayoutAsADirectoryAndAsATar) {
  std::string layer = rootfs_tar("base");
  std::string dir = oci_layout("one", layer, "oci-demo:dir");
  CmdResult r = stack({"image", "load", dir});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Loaded image: oci-demo:dir"), std::string::npos) << r.out;

  std::string dir2 = oci_layout("two", layer, "localhost:5000/oci-demo:tar");
  std::string tar = work_.path() + "/two.oci.tar";
  ASSERT_EQ(stack::test::run({"tar", "-C", dir2, "-cf", tar, "."}).status, 0);
  r = stack({"image", "load", "-i", tar});
  ASSERT_EQ(r.status, 0) << r.err;

  CmdResult ls = stack({"image", "ls"});
  ASSERT_EQ(ls.status, 0) << ls.err;
  EXPECT_NE(ls.out.find("oci-demo"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("localhost:5000/oci-demo"), std::string::npos) << ls.out;
  CmdResult in = stack({"image", "inspect", "localhost:5000/oci-demo:tar"});
  ASSERT_EQ(in.status, 0) << in.err;
  EXPECT_EQ(json::parse(in.out)[0]["Config"]["config"]["Cmd"], json::array({"/bin/echo", "oci"}));
}

TEST_F(ImageCli, ImportAppliesChanges) {
  std::string tar = rootfs_tar("rootfs");
  CmdResult r = stack({"image", "import", tar, "imported:v1", "--change", R"(CMD ["/bin/sh","-c","echo hi"])",
                       "--change", "ENV A=b C=\"d e\"", "--change", "WORKDIR /srv", "--change", "EXPOSE 8080",
                       "--change", "LABEL team=core"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("sha256:", 0), 0u) << r.out;
  CmdResult in = stack({"image", "inspect", "imported:v1"});
  ASSERT_EQ(in.status, 0) << in.err;
  json c = json::parse(in.out)[0]["Config"]["config"];
  EXPECT_EQ(c["Cmd"], json::array({"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(c["Env"], json::array({"A=b", "C=d e"}));
  EXPECT_EQ(c["WorkingDir"], "/srv");
  EXPECT_TRUE(c["ExposedPorts"].contains("8080/tcp")) << c.dump();
  EXPECT_EQ(c["Labels"]["team"], "core");
  // Shell-form CMD becomes /bin/sh -c, as in a Dockerfile.
  r = stack({"image", "import", tar, "imported:v2", "--change", "CMD echo $HOME"});
  ASSERT_EQ(r.status, 0) << r.err;
  in = stack({"image", "inspect", "imported:v2"});
  EXPECT_EQ(json::parse(in.out)[0]["Config"]["config"]["Cmd"], json::array({"/bin/sh", "-c", "echo $HOME"}));

  CmdResult bad = stack({"image", "import", tar, "imported:v3", "--change", "RUN rm -rf /"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_TRUE(one_line(bad.err)) << bad.err;
  EXPECT_NE(bad.err.find("RUN"), std::string::npos) << bad.err;
}

TEST_F(ImageCli, HostileArchivesAreRefusedAndLeaveNothing) {
  std::string layer = rootfs_tar("base");
  ASSERT_EQ(stack({"image", "import", layer, "keep:1"}).status, 0);
  const auto before = blobs();
  const std::string images_before = stack({"images"}).out;

  struct Case {
    std::string what, archive, expect;
  };
  std::vector<Case> cases;
  // A layer named "../x" in manifest.json.
  cases.push_back({"dotdot", docker_save("dotdot", {layer}, {"evil:1"}, {"../x"}), "../x"});
  // A manifest naming a file the archive lacks.
  cases.push_back({"missing", docker_save("missing", {layer}, {"evil:2"}, {"nothere/layer.tar"}), "nothere/layer.tar"});
  // An entry in the tar itself that climbs out.
  {
    std::string dir = work_.path() + "/climb";
    fs::create_directories(dir + "/sub");
    write(dir + "/x", "x");
    std::string tar = work_.path() + "/climb.tar";
    ASSERT_EQ(stack::test::run({"tar", "-C", dir + "/sub", "-P", "-cf", tar, "../x"}).status, 0);
    cases.push_back({"tar-entry", tar, "../x"});
  }
  // An OCI layout whose layer blob was tampered with after being named.
  {
    std::string dir = oci_layout("tampered", rootfs_tar("other", {{"etc/other", "1"}}), "evil:3");
    std::string layer_hex = sha_hex_of_file(work_.path() + "/other.tar");
    std::ofstream(dir + "/blobs/sha256/" + layer_hex, std::ios::app) << "tamper";
    cases.push_back({"tampered", dir, layer_hex});
  }
  // An OCI layout whose blob is a symlink to a host file.
  {
    std::string dir = oci_layout("symlink", rootfs_tar("other2", {{"etc/other", "2"}}), "evil:4");
    std::string layer_hex = sha_hex_of_file(work_.path() + "/other2.tar");
    fs::remove(dir + "/blobs/sha256/" + layer_hex);
    fs::create_symlink(work_.path() + "/other2.tar", dir + "/blobs/sha256/" + layer_hex);
    cases.push_back({"symlink", dir, "symlink"});
  }
  for (auto& c : cases) {
    CmdResult r = stack({"image", "load", "-i", c.archive});
    EXPECT_EQ(r.status, 1) << c.what;
    EXPECT_TRUE(one_line(r.err)) << c.what << ": " << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.what << ": " << r.err;
    EXPECT_EQ(blobs(), before) << c.what;
    EXPECT_EQ(ingest_entries(), 0u) << c.what;
    EXPECT_EQ(stack({"images"}).out, images_before) << c.what;
  }
}

TEST_F(ImageCli, RmFreesOnlyWhatNoOtherImageUses) {
  std::string tar = rootfs_tar("rootfs");
  std::string layer_hex = sha_hex_of_file(tar);
  ASSERT_EQ(stack({"image", "import", tar, "a:1", "--change", "CMD [\"a\"]"}).status, 0);
  ASSERT_EQ(stack({"image", "import", tar, "b:1", "--change", "CMD [\"b\"]"}).status, 0);
  ASSERT_EQ(blobs().size(), 5u);  // shared layer + 2 configs + 2 manifests
  json a = json::parse(stack({"image", "inspect", "a:1"}).out)[0];

  CmdResult r = stack({"image", "rm", "a:1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Untagged: a:1"), std::string::npos) << r.out;
  auto left = blobs();
  EXPECT_EQ(left.size(), 3u);
  EXPECT_TRUE(left.count(layer_hex)) << "the shared layer must stay";
  EXPECT_FALSE(left.count(a["Id"].get<std::string>().substr(7)));
  EXPECT_EQ(stack({"image", "inspect", "a:1"}).status, 1);
  EXPECT_EQ(stack({"image", "inspect", "b:1"}).status, 0);

  r = stack({"rmi", "b:1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(blobs().empty());
  CmdResult missing = stack({"image", "rm", "b:1"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(one_line(missing.err)) << missing.err;
}

TEST_F(ImageCli, RmByIdRemovesTheImage) {
  std::string tar = rootfs_tar("rootfs");
  ASSERT_EQ(stack({"image", "import", tar, "x:1"}).status, 0);
  json x = json::parse(stack({"image", "inspect", "x:1"}).out)[0];
  std::string id = x["Id"].get<std::string>().substr(7, 12);
  EXPECT_NE(stack({"images", "-q"}).out.find(id), std::string::npos);
  ASSERT_EQ(stack({"image", "rm", id}).status, 0);
  EXPECT_TRUE(blobs().empty());
  EXPECT_EQ(stack({"images", "-q"}).out, "");
}

TEST_F(ImageCli, PruneRemovesUnreferencedBlobs) {
  std::string l1 = rootfs_tar("base");
  ASSERT_EQ(stack({"image", "import", l1, "kept:1"}).status, 0);
  const auto kept = blobs();
  // An untagged image: nothing refers to its blobs.
  std::string l2 = layer_tar("loose", {{"loose.txt", "loose\n"}});
  CmdResult r = stack({"image", "load", "-i", docker_save("untagged", {l2}, {})});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Loaded image ID: sha256:"), std::string::npos) << r.out;
  EXPECT_EQ(blobs().size(), kept.size() + 3);
  r = stack({"image", "prune", "-f"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Total reclaimed space"), std::string::npos) << r.out;
  EXPECT_EQ(blobs(), kept);
  EXPECT_EQ(stack({"image", "inspect", "kept:1"}).status, 0);
}

TEST_F(ImageCli, SystemDfReportsWhatTheStoreHolds) {
  auto df = [&] {
    CmdResult r = stack({"system", "df"});
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  };
  EXPECT_NE(df().find("Blobs           0       0B"), std::string::npos) << df();
  std::string l1 = rootfs_tar("base");
  ASSERT_EQ(stack({"image", "import", l1, "kept:1"}).status, 0);
  std::string out = df();
  EXPECT_NE(out.find("Images          1"), std::string::npos) << out;
  EXPECT_NE(out.find("Blobs           3"), std::string::npos) << out;  // layer, config, manifest
  EXPECT_EQ(out.find("Blobs           3       0B"), std::string::npos) << out;
  ASSERT_EQ(stack({"rmi", "kept:1"}).status, 0);
  EXPECT_NE(df().find("Blobs           0       0B"), std::string::npos) << df();
}

TEST_F(ImageCli, ErrorsAreOneLine) {
  for (auto args : std::vector<std::vector<std::string>>{{"image", "inspect", "nope:1"},
                                                         {"image", "load", "-i", "/nonexistent.tar"},
                                                         {"image", "import", "/nonexistent.tar", "x:1"},
                                                         {"image", "import", "/bin/busybox", "x:1"},
                                                         {"image", "inspect", "UPPER"},
                                                         {"image", "frobnicate"}}) {
    CmdResult r = stack(args);
    EXPECT_EQ(r.status, 1) << args.back();
    EXPECT_TRUE(one_line(r.err)) << args.back() << ": " << r.err;
  }
  EXPECT_TRUE(blobs().empty());
}

TEST_F(ImageCli, PushAndPullThroughALoopbackRegistry) {
  if (auto why = stack::test::RegistryFixture::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  stack::test::RegistryFixture reg;
  ASSERT_EQ(reg.start(), "") << reg.log();
  std::string tar = rootfs_tar("rootfs");
  ASSERT_EQ(stack({"image", "import", tar, "local:1", "--change", R"(CMD ["/bin/echo","pulled"])"}).status, 0);
  std::string remote = reg.host() + "/team/app:1";
  CmdResult p = stack({"push", "local:1", remote});
  ASSERT_EQ(p.status, 0) << p.err << reg.log();

  // A second store pulls it.
  TempDir other("stack-img-pull");
  CmdResult pull = stack::test::run({stack::test::binary("stack"), "--image-root", other.path(), "pull", remote});
  ASSERT_EQ(pull.status, 0) << pull.err;
  CmdResult ls = stack::test::run({stack::test::binary("stack"), "--image-root", other.path(), "images"});
  EXPECT_NE(ls.out.find(reg.host() + "/team/app"), std::string::npos) << ls.out;
  CmdResult in = stack::test::run({stack::test::binary("stack"), "--image-root", other.path(), "image", "inspect", remote});
  ASSERT_EQ(in.status, 0) << in.err;
  EXPECT_EQ(json::parse(in.out)[0]["Config"]["config"]["Cmd"], json::array({"/bin/echo", "pulled"}));

  CmdResult missing = stack::test::run({stack::test::binary("stack"), "--image-root", other.path(), "pull",
                                        reg.host() + "/team/nope:1"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(one_line(missing.err)) << missing.err;
}

TEST_F(ImageCli, LoginThenPushToARegistryWithAuth) {
  stack::test::RegistryOptions opts;
  opts.user = "alice";
  opts.password = "s3cret";
  if (auto why = stack::test::RegistryFixture::skip_reason(opts); !why.empty()) GTEST_SKIP() << why;
  stack::test::RegistryFixture reg(opts);
  ASSERT_EQ(reg.start(), "") << reg.log();
  // Credentials go to $DOCKER_CONFIG, kept inside this test's temp dir.
  std::string docker_config = work_.path() + "/docker-config";
  fs::create_directories(docker_config);
  auto with_env = [&](std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {"env", "DOCKER_CONFIG=" + docker_config, stack::test::binary("stack"),
                                     "--image-root", root()};
    argv.insert(argv.end(), args.begin(), args.end());
    return stack::test::run(argv, input);
  };
  std::string tar = rootfs_tar("rootfs");
  ASSERT_EQ(stack({"image", "import", tar, "local:1"}).status, 0);
  std::string remote = reg.host() + "/alice/app:1";

  CmdResult anon = with_env({"push", "-q", "local:1", remote});
  EXPECT_EQ(anon.status, 1);
  EXPECT_TRUE(one_line(anon.err)) << anon.err;

  CmdResult wrong = with_env({"login", "-u", "alice", "--password-stdin", reg.host()}, "nope\n");
  EXPECT_EQ(wrong.status, 1);
  EXPECT_TRUE(one_line(wrong.err)) << wrong.err;

  CmdResult ok = with_env({"login", "-u", "alice", "--password-stdin", reg.host()}, "s3cret\n");
  ASSERT_EQ(ok.status, 0) << ok.err;
  EXPECT_NE(ok.out.find("Login Succeeded"), std::string::npos);
  json auths = json::parse(stack::test::read_file(docker_config + "/config.json"))["auths"];
  EXPECT_TRUE(auths.contains(reg.host())) << auths.dump();

  CmdResult push = with_env({"push", "-q", "local:1", remote});
  ASSERT_EQ(push.status, 0) << push.err;
  EXPECT_NE(push.out.find("digest: sha256:"), std::string::npos) << push.out;
}

}  // namespace
