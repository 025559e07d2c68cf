// ImageService against real kernel objects: layers unpacked into shared
// snapshots (keyed by chain id) and a container run from an imported image
// through overlay + stack-runtime with the image config applied; removal
// frees exactly the snapshots and blobs no other image uses.
#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/container/default_spec.h"
#include "runtime/image/image_service.h"
#include "runtime/image/import.h"
#include "runtime/image/manifest.h"
#include "runtime/image/overlay.h"
#include "runtime/image/registry.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/runtime_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace stack::img;
using stack::test::CmdResult;
using stack::test::TempDir;

namespace {

using stack::test::mounted;
using stack::test::MountGuard;

size_t entries(const std::string& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it) n++;
  return n;
}

class ImageServiceTest : public stack::test::RuntimeTest {
 protected:
  void SetUp() override {
    auto s = ImageService::open(work_.path() + "/store");
    ASSERT_TRUE(s) << s.error().message();
    svc_.emplace(std::move(*s));
  }
  // Tars `dir` (whose files the caller made) into work/<name>.tar.
  std::string tar_of(const std::string& dir, const std::string& name) {
    std::string tar = work_.path() + "/" + name + ".tar";
    CmdResult r = stack::test::run({"tar", "--numeric-owner", "-C", dir, "-cf", tar, "."});
    EXPECT_EQ(r.status, 0) << r.err;
    return tar;
  }
  std::string busybox_rootfs_tar() {
    std::string dir = work_.path() + "/rootfs.d";
    for (const char* d : {"bin", "etc", "proc", "sys", "dev", "tmp", "srv/app"}) fs::create_directories(dir + "/" + d);
    fs::copy_file("/bin/busybox", dir + "/bin/busybox");
    for (const char* a : {"sh", "echo", "cat", "pwd"}) fs::create_symlink("busybox", dir + "/bin/" + a);
    std::ofstream(dir + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
    std::ofstream(dir + "/srv/app/greeting") << "from the image\n";
    return tar_of(dir, "rootfs");
  }
  std::string file_layer(const std::string& name, const std::string& file, const std::string& content) {
    std::string dir = work_.path() + "/" + name + ".d";
    fs::create_directories(fs::path(dir + "/" + file).parent_path());
    std::ofstream(dir + "/" + file) << content;
    return tar_of(dir, name);
  }
  // An image from uncompressed layer tars, written with the store API.
  Digest make_image(const std::string& name, const std::vector<std::string>& layers) {
    ContentStore& st = svc_->store();
    ImageConfig c;
    c.os = "linux";
    c.architecture = host_architecture();
    c.cmd = {"/bin/sh"};
    json ls = json::array();
    for (auto& l : layers) {
      std::string bytes = stack::test::read_file(l);
      Digest d = sha256_of(bytes);
      c.diff_ids.push_back(d);
      auto ok = st.put_blob(d, bytes);
      EXPECT_TRUE(ok) << ok.error().message();
      ls.push_back({{"mediaType", media::kOciLayerTar}, {"digest", d.string()}, {"size", bytes.size()}});
    }
    std::string cj = image_config_to_json(c);
    Digest cd = sha256_of(cj);
    EXPECT_TRUE(st.put_blob(cd, cj));
    std::string mj = json{{"schemaVersion", 2},
                          {"mediaType", media::kOciManifest},
                          {"config", {{"mediaType", media::kOciConfig}, {"digest", cd.string()}, {"size", cj.size()}}},
                          {"layers", ls}}
                         .dump();
    Digest md = sha256_of(mj);
    EXPECT_TRUE(st.put_blob(md, mj));
    auto ref = parse_reference(name);
    EXPECT_TRUE(ref);
    EXPECT_TRUE(st.set_ref(*ref, md));
    return md;
  }

  CmdResult run_image(const std::string& ref);

  TempDir work_{"stack-img-svc"};
  std::optional<ImageService> svc_;
  int containers_ = 0;
};

// What the orchestrator will do with an image: unpack its layers (shared
// snapshots), put a writable overlay on top, build the spec from Docker's
// defaults plus the image config (entrypoint + cmd, env, working dir) and run
// it with stack-runtime. Checks the overlay is gone and the image untouched.
CmdResult ImageServiceTest::run_image(const std::string& ref) {
  CmdResult r;
  auto lowers = svc_->ensure_unpacked(ref);
  EXPECT_TRUE(lowers) << lowers.error().message();
  auto cfg = svc_->image_runtime_config(ref);
  EXPECT_TRUE(cfg) << cfg.error().message();
  auto layer = create_container_layer(work_.path() + "/ctr-" + std::to_string(++containers_));
  EXPECT_TRUE(layer) << layer.error().message();
  if (!lowers || !cfg || !layer) return r;
  auto m = mount_overlay(*lowers, layer->upper, layer->work, layer->rootfs);
  EXPECT_TRUE(m) << m.error().message();
  if (!m) return r;
  MountGuard guard{layer->rootfs};

  stack::rt::Spec spec = stack::rt::default_spec();
  spec.root.path = layer->rootfs;
  spec.process.args = cfg->entrypoint;
  spec.process.args.insert(spec.process.args.end(), cfg->cmd.begin(), cfg->cmd.end());
  for (auto& e : cfg->env) spec.process.env.push_back(e);
  if (!cfg->working_dir.empty()) spec.process.cwd = cfg->working_dir;
  TempDir bundle("stack-img-bundle");
  std::ofstream(bundle.path() + "/config.json") << stack::rt::spec_to_json(spec).dump(2);
  r = rt({"run", "--bundle", bundle.path(), new_id()});

  auto u = unmount_overlay(layer->rootfs);
  EXPECT_TRUE(u) << u.error().message();
  EXPECT_FALSE(mounted(layer->rootfs));
  auto rm = remove_container_layer(layer->dir);
  EXPECT_TRUE(rm) << rm.error().message();
  return r;
}

ImportOptions greeting_image() {
  ImportOptions o;
  o.changes = {R"(ENTRYPOINT ["/bin/sh","-c"])",
               R"(CMD ["echo \"$GREETING $(cat greeting) in $(pwd)\""])",
               "ENV GREETING=hello", "WORKDIR /srv/app"};
  return o;
}

TEST_F(ImageServiceTest, ContainerRunsFromAnImportedImageWithItsConfig) {
  STACK_REQUIRE_ROOT();
  auto imp = import_rootfs(svc_->store(), busybox_rootfs_tar(), "app:1", greeting_image());
  ASSERT_TRUE(imp) << imp.error().message();
  CmdResult r = run_image("app:1");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hello from the image in /srv/app\n");
  // The snapshot is the image's, untouched by the container.
  auto lowers = svc_->ensure_unpacked("app:1");
  ASSERT_TRUE(lowers);
  EXPECT_TRUE(fs::exists((*lowers)[0] + "/srv/app/greeting"));
}

TEST_F(ImageServiceTest, ContainerRunsFromAnImagePulledFromARegistry) {
  STACK_REQUIRE_ROOT();
  if (auto why = stack::test::RegistryFixture::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  stack::test::RegistryFixture reg;
  ASSERT_EQ(reg.start(), "") << reg.log();
  // Built in one store, pushed to a real registry on loopback, pulled into
  // the service's empty store, then run.
  auto src = ImageService::open(work_.path() + "/src-store");
  ASSERT_TRUE(src) << src.error().message();
  ASSERT_TRUE(import_rootfs(src->store(), busybox_rootfs_tar(), "app:1", greeting_image()));
  auto local = parse_reference("app:1");
  auto remote = parse_reference(reg.host() + "/team/app:1");
  ASSERT_TRUE(local && remote);
  auto pushed = push(*local, *remote, src->store(), RegistryConfig{});
  ASSERT_TRUE(pushed) << pushed.error().message();
  auto pulled = pull(*remote, svc_->store(), RegistryConfig{});
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(*pulled, *pushed);
  CmdResult r = run_image(remote->string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hello from the image in /srv/app\n");
}

TEST_F(ImageServiceTest, RemoveFreesOnlySnapshotsAndBlobsNoOtherImageUses) {
  STACK_REQUIRE_ROOT();
  std::string base = busybox_rootfs_tar();
  std::string top_a = file_layer("top-a", "etc/a", "a\n");
  std::string top_b = file_layer("top-b", "etc/b", "b\n");
  make_image("a:1", {base, top_a});
  make_image("b:1", {base, top_b});

  auto la = svc_->ensure_unpacked("a:1");
  ASSERT_TRUE(la) << la.error().message();
  auto lb = svc_->ensure_unpacked("b:1");
  ASSERT_TRUE(lb) << lb.error().message();
  ASSERT_EQ(la->size(), 2u);
  ASSERT_EQ(lb->size(), 2u);
  EXPECT_EQ((*la)[1], (*lb)[1]) << "the base layer's snapshot is shared";
  EXPECT_TRUE(fs::exists((*la)[0] + "/etc/a"));  // top first
  EXPECT_TRUE(fs::exists((*la)[1] + "/bin/busybox"));
  EXPECT_EQ(entries(svc_->store().root() + "/snapshots"), 3u);
  // Idempotent: nothing new is unpacked.
  auto again = svc_->ensure_unpacked("a:1");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *la);
  EXPECT_EQ(entries(svc_->store().root() + "/snapshots"), 3u);

  Digest base_digest = sha256_of(stack::test::read_file(base));
  auto rep = svc_->remove("a:1");
  ASSERT_TRUE(rep) << rep.error().message();
  EXPECT_EQ(rep->deleted_snapshots.size(), 1u);
  EXPECT_EQ(rep->deleted_blobs.size(), 3u);  // manifest, config, top-a
  EXPECT_FALSE(fs::exists((*la)[0]));
  EXPECT_TRUE(fs::exists((*lb)[0] + "/etc/b"));
  EXPECT_TRUE(fs::exists((*lb)[1] + "/bin/busybox"));
  EXPECT_TRUE(svc_->store().has_blob(base_digest));

  rep = svc_->remove("b:1");
  ASSERT_TRUE(rep) << rep.error().message();
  EXPECT_EQ(entries(svc_->store().root() + "/snapshots"), 0u);
  EXPECT_EQ(entries(svc_->store().root() + "/blobs/sha256"), 0u);
  auto list = svc_->list();
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
}

TEST_F(ImageServiceTest, ALayerThatDoesNotMatchItsDiffIdLeavesNoSnapshot) {
  STACK_REQUIRE_ROOT();
  std::string good = file_layer("good", "etc/good", "good\n");
  Digest md = make_image("liar:1", {good});
  // Rewrite the image so its config claims another diff id for the layer.
  ContentStore& st = svc_->store();
  auto m = parse_manifest(*st.read_blob(md));
  ASSERT_TRUE(m);
  ImageConfig c;
  c.os = "linux";
  c.architecture = host_architecture();
  c.diff_ids = {sha256_of("something else")};
  std::string cj = image_config_to_json(c);
  Digest cd = sha256_of(cj);
  ASSERT_TRUE(st.put_blob(cd, cj));
  std::string mj = json{{"schemaVersion", 2},
                        {"mediaType", media::kOciManifest},
                        {"config", {{"mediaType", media::kOciConfig}, {"digest", cd.string()}, {"size", cj.size()}}},
                        {"layers", json::array({{{"mediaType", media::kOciLayerTar},
                                                 {"digest", m->layers[0].digest.string()},
                                                 {"size", m->layers[0].size}}})}}
                       .dump();
  Digest md2 = sha256_of(mj);
  ASSERT_TRUE(st.put_blob(md2, mj));
  ASSERT_TRUE(st.set_ref(*parse_reference("liar:1"), md2));

  auto r = svc_->ensure_unpacked("liar:1");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("does not match config rootfs.diff_ids[0]"), std::string::npos)
      << r.error().message();
  EXPECT_EQ(entries(st.root() + "/snapshots"), 0u);
}

}  // namespace
