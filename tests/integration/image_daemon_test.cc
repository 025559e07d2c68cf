// The image verbs go to the daemon the CLI talks to (issue 11, item 2): a
// stackd with its own --root, selected with STACK_HOST or --host, gets the
// image `stack image load` sends (over the socket, from a file or stdin) and
// `stack pull` fetches (progress streamed back), lists it, and `stack up`
// runs it without a pull. Also `stack down FILE` (item 3).
//
// The CLI here never gets --image-root (that would work on a store directly,
// image_offline.h); the fixture's own stack() does, so it shows what is in
// the daemon's store independently of the daemon.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/image/digest.h"
#include "tests/integration/stack_cli_fixture.h"
#include "tests/support/registry_fixture.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

class ImageDaemon : public StackdFixture {
 protected:
  std::string work() const { return dir_.path() + "/work"; }

  // The CLI as a user runs it: the daemon chosen by STACK_HOST, no store flags.
  CmdResult cli(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {"env", "STACK_HOST=unix://" + socket(), binary("stack")};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, input);
  }

  // A busybox root filesystem tar (sh, sleep, echo).
  std::string rootfs_tar(const std::string& name) {
    std::string d = work() + "/" + name + ".d";
    fs::create_directories(d + "/bin");
    fs::create_directories(d + "/tmp");
    fs::copy_file("/bin/busybox", d + "/bin/busybox", fs::copy_options::overwrite_existing);
    for (const char* a : {"sh", "sleep", "echo"}) {
      std::error_code ec;
      fs::create_symlink("busybox", d + "/bin/" + a, ec);
    }
    std::string tar = work() + "/" + name + ".tar";
    auto r = run({"tar", "--numeric-owner", "--owner=0", "--group=0", "-C", d, "-cf", tar, "."});
    EXPECT_EQ(r.status, 0) << r.err;
    return tar;
  }

  // A `docker save` archive of one layer, tagged `repo_tag`.
  std::string docker_save(const std::string& name, const std::string& repo_tag) {
    std::string layer = rootfs_tar(name + "-layer");
    std::string hex = img::sha256_of(read_file(layer)).hex;
    std::string dir = work() + "/" + name + ".save";
    fs::create_directories(dir + "/" + hex);
    fs::copy_file(layer, dir + "/" + hex + "/layer.tar", fs::copy_options::overwrite_existing);
    std::string cfg = json{{"architecture", "amd64"},
                           {"os", "linux"},
                           {"config", {{"Cmd", {"sh"}}}},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + hex}}}}}
                          .dump();
    std::string cfg_hex = img::sha256_of(cfg).hex;
    std::ofstream(dir + "/" + cfg_hex + ".json") << cfg;
    std::ofstream(dir + "/manifest.json")
        << json::array({{{"Config", cfg_hex + ".json"}, {"RepoTags", {repo_tag}}, {"Layers", {hex + "/layer.tar"}}}})
               .dump();
    std::string tar = work() + "/" + name + ".save.tar";
    auto r = run({"tar", "-C", dir, "-cf", tar, "."});
    EXPECT_EQ(r.status, 0) << r.err;
    return tar;
  }

  // The CLI on a scratch store of its own (no daemon): what a registry gets
  // pushed from.
  CmdResult offline(std::vector<std::string> args) {
    std::vector<std::string> argv = {binary("stack"), "--image-root", work() + "/scratch-store"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  // What is in the daemon's store, read from its directory (not via the daemon).
  std::string store_listing() { return stack({"images"}).out; }

  void SetUp() override {
    StackdFixture::SetUp();
    if (!HasFatalFailure()) fs::create_directories(work());
  }
};

TEST_F(ImageDaemon, LoadGoesToTheDaemonOfStackHostWhichRunsTheImageWithoutAPull) {
  // On a host where no stackd ever ran there is no /var/lib/stack: the CLI
  // must not need it (nor create it) to load into another daemon.
  struct stat st {};
  bool default_root_absent = ::stat("/var/lib/stack", &st) != 0;
  std::string archive = docker_save("app", "it-daemon/loaded:1");

  auto load = cli({"image", "load", archive});
  ASSERT_EQ(load.status, 0) << load.err;
  EXPECT_EQ(load.out, "Loaded image: it-daemon/loaded:1\n");
  EXPECT_NE(store_listing().find("it-daemon/loaded"), std::string::npos) << "not in the daemon's store";
  auto ls = cli({"images"});
  ASSERT_EQ(ls.status, 0) << ls.err;
  EXPECT_NE(ls.out.find("it-daemon/loaded"), std::string::npos) << ls.out;
  auto inspect = cli({"image", "inspect", "it-daemon/loaded:1"});
  ASSERT_EQ(inspect.status, 0) << inspect.err;
  EXPECT_EQ(json::parse(inspect.out)[0]["RepoTags"], json::array({"it-daemon/loaded:1"})) << inspect.out;
  if (default_root_absent) EXPECT_NE(::stat("/var/lib/stack", &st), 0) << "the CLI created /var/lib/stack";

  // Not on any registry (and the test's network has no way out): `up` can
  // only succeed from the daemon's store.
  std::string file = work() + "/loaded.yaml";
  std::ofstream(file) << "name: loadedimg\nservices:\n  app:\n    image: it-daemon/loaded:1\n"
                         "    command: [\"sh\", \"-c\", \"echo loaded-image-ran; exec sleep 300\"]\n";
  auto up = cli({"up", "-d", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("pull"), std::string::npos) << up.err;
  EXPECT_TRUE(wait_for([&] {
    return cli({"-f", file, "logs", "app"}).out.find("loaded-image-ran") != std::string::npos;
  })) << cli({"-f", file, "logs", "app"}).out;

  // rm goes through the daemon too.
  ASSERT_EQ(cli({"down", file}).status, 0);
  auto rm = cli({"--host", "unix://" + socket(), "image", "rm", "it-daemon/loaded:1"});
  ASSERT_EQ(rm.status, 0) << rm.err;
  EXPECT_NE(rm.out.find("Untagged: it-daemon/loaded:1"), std::string::npos) << rm.out;
  EXPECT_EQ(store_listing().find("it-daemon/loaded"), std::string::npos);
}

TEST_F(ImageDaemon, LoadReadsStdinAndDashI) {
  std::string a = docker_save("stdin", "it-daemon/stdin:1");
  auto from_stdin = cli({"image", "load"}, read_file(a));
  ASSERT_EQ(from_stdin.status, 0) << from_stdin.err;
  EXPECT_EQ(from_stdin.out, "Loaded image: it-daemon/stdin:1\n");
  std::string b = docker_save("dash-i", "it-daemon/dash-i:1");
  auto dash_i = cli({"image", "load", "-i", b});
  ASSERT_EQ(dash_i.status, 0) << dash_i.err;
  auto listing = store_listing();
  EXPECT_NE(listing.find("it-daemon/stdin"), std::string::npos) << listing;
  EXPECT_NE(listing.find("it-daemon/dash-i"), std::string::npos) << listing;
}

TEST_F(ImageDaemon, BadArchivesAreClearErrorsThatChangeNothing) {
  auto before = cli({"images"});
  ASSERT_EQ(before.status, 0) << before.err;
  auto missing = cli({"image", "load", work() + "/nope.tar"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(one_line(missing.err)) << missing.err;
  EXPECT_NE(missing.err.find("nope.tar: No such file or directory"), std::string::npos) << missing.err;

  std::string junk = work() + "/junk.tar";
  std::ofstream(junk) << "this is not a tar archive\n";
  auto bad = cli({"image", "load", junk});
  EXPECT_EQ(bad.status, 1);
  EXPECT_TRUE(one_line(bad.err)) << bad.err;
  EXPECT_NE(bad.err.find("load"), std::string::npos) << bad.err;

  auto bad_ref = cli({"pull", "UPPER/Case"});
  EXPECT_EQ(bad_ref.status, 1);
  EXPECT_TRUE(one_line(bad_ref.err)) << bad_ref.err;

  EXPECT_EQ(cli({"images"}).out, before.out);
  // The daemon kept no spooled upload.
  std::error_code ec;
  for (auto& e : fs::directory_iterator(root() + "/tmp", ec)) ADD_FAILURE() << "left behind: " << e.path();
}

// A stackd killed while it held an upload (kill -9 in the middle of a
// `stack image load`) leaves the spooled body behind; the next stackd on the
// root removes it before it serves, and nothing else in that directory.
TEST_F(ImageDaemon, UploadsLeftByAKilledDaemonAreRemovedAtStart) {
  stop_daemon(SIGKILL);
  fs::create_directories(root() + "/tmp");
  std::ofstream(root() + "/tmp/upload-Ab12Cd") << "half of an archive";
  std::ofstream(root() + "/tmp/notes.txt") << "not ours";
  start_daemon();
  EXPECT_FALSE(fs::exists(root() + "/tmp/upload-Ab12Cd"));
  EXPECT_TRUE(fs::exists(root() + "/tmp/notes.txt"));
  fs::remove(root() + "/tmp/notes.txt");
}

TEST_F(ImageDaemon, PullGoesToTheDaemonWithProgressStreamedBack) {
  if (auto why = RegistryFixture::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  RegistryFixture reg;
  ASSERT_EQ(reg.start(), "") << reg.log();
  // Put an image on the registry from a scratch store.
  ASSERT_EQ(offline({"image", "import", rootfs_tar("pushed"), "local:1"}).status, 0);
  std::string remote = reg.host() + "/team/app:1";
  auto push = offline({"push", "-q", "local:1", remote});
  ASSERT_EQ(push.status, 0) << push.err << reg.log();

  auto pull = cli({"--host", "unix://" + socket(), "pull", remote});
  ASSERT_EQ(pull.status, 0) << pull.err;
  // The per-layer progress and Docker's closing lines came over the stream.
  EXPECT_NE(pull.out.find(": Pull complete"), std::string::npos) << pull.out;
  EXPECT_NE(pull.out.find("Digest: sha256:"), std::string::npos) << pull.out;
  EXPECT_NE(pull.out.find("Status: Downloaded newer image for " + remote), std::string::npos) << pull.out;
  EXPECT_EQ(pull.out.substr(pull.out.rfind('\n', pull.out.size() - 2) + 1), remote + "\n") << pull.out;
  EXPECT_NE(store_listing().find(reg.host() + "/team/app"), std::string::npos) << "not in the daemon's store";

  auto quiet = cli({"pull", "-q", remote});
  ASSERT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.out, remote + "\n");

  auto missing = cli({"pull", reg.host() + "/team/nope:1"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(one_line(missing.err)) << missing.err;
  EXPECT_NE(missing.err.find("team/nope"), std::string::npos) << missing.err;
}

// `stack down FILE` as `stack up FILE` (issue 11, item 3).
TEST_F(ImageDaemon, DownTakesTheFileAsItsArgumentLikeUp) {
  auto up = stack({"up", "-d", example("juice-shop.yaml")});
  ASSERT_EQ(up.status, 0) << up.err;
  auto name = stack({"-f", example("juice-shop.yaml"), "ls", "-q"}).out;
  ASSERT_FALSE(name.empty());
  auto down = stack({"down", example("juice-shop.yaml")});
  ASSERT_EQ(down.status, 0) << down.err;
  EXPECT_EQ(down.out, "Stack " + name.substr(0, name.find('\n')) + " removed\n");
  EXPECT_EQ(stack({"ls", "-q"}).out, "");
  EXPECT_TRUE(ps({"-f", example("juice-shop.yaml")}).empty());

  // The same with -f, and with -p: all three name the same stack.
  ASSERT_EQ(stack({"up", "-d", example("juice-shop.yaml")}).status, 0);
  ASSERT_EQ(stack({"down", "-f", example("juice-shop.yaml")}).status, 0);
  EXPECT_EQ(stack({"ls", "-q"}).out, "");
}

// pull_policy on `up` (Compose's forms), against a registry on loopback:
// never refuses a missing image and changes nothing; every_1h pulls a
// missing one and then not while the name is younger than an hour, and
// again once it is older.
TEST_F(ImageDaemon, UpPullsByThePullPolicy) {
  if (auto why = RegistryFixture::skip_reason(); !why.empty()) GTEST_SKIP() << why;
  RegistryFixture reg;
  ASSERT_EQ(reg.start(), "") << reg.log();
  const std::string remote = reg.host() + "/team/policy:1";
  // Two images under one remote name, told apart by their digests.
  ASSERT_EQ(offline({"image", "import", rootfs_tar("one"), "local:1"}).status, 0);
  ASSERT_EQ(offline({"push", "-q", "local:1", remote}).status, 0) << reg.log();
  auto stack_file = [&](const std::string& policy) {
    std::string file = work() + "/policy.yaml";
    std::ofstream(file) << "name: policy\nservices:\n  app:\n    image: " + remote +
                               "\n    command: [sleep, \"300\"]\n    pull_policy: " + policy + "\n";
    return file;
  };
  // The digest of the daemon's name, read from its store's refs.json.
  const std::string refs = root() + "/images/refs.json";
  auto stored = [&]() -> std::string {
    auto j = json::parse(read_file(refs), nullptr, false);
    if (j.is_discarded()) return "";
    return j["refs"].value(remote, "");
  };

  auto never = cli({"up", "-d", stack_file("never")});
  EXPECT_NE(never.status, 0);
  EXPECT_NE(never.err.find("is not in the store and pull_policy is never"), std::string::npos) << never.err;
  EXPECT_EQ(cli({"ls", "-q"}).out, "") << "nothing made";
  EXPECT_EQ(stored(), "");

  auto first = cli({"up", "-d", stack_file("every_1h")});
  ASSERT_EQ(first.status, 0) << first.err;
  const std::string one = stored();
  ASSERT_NE(one, "") << read_file(refs);

  // The registry gets another image under the name; the store's is an hour
  // younger than every_1h, so `up` keeps it.
  fs::create_directories(work() + "/two.d");
  std::ofstream(work() + "/two.d/second") << "a file the first image lacks\n";
  ASSERT_EQ(offline({"image", "import", rootfs_tar("two"), "local:2"}).status, 0);
  ASSERT_EQ(offline({"push", "-q", "local:2", remote}).status, 0) << reg.log();
  ASSERT_EQ(cli({"up", "-d", stack_file("every_1h")}).status, 0);
  EXPECT_EQ(stored(), one) << "pulled while fresh";

  // Two hours old: stale, pulled.
  auto j = json::parse(read_file(refs));
  for (auto& [name, at] : j["tagged"].items()) at = at.get<int64_t>() - 2 * 3600 * 1000;
  std::ofstream(refs) << j.dump();
  ASSERT_EQ(cli({"up", "-d", stack_file("every_1h")}).status, 0);
  const std::string two = stored();
  EXPECT_NE(two, one) << "not pulled when stale";

  ASSERT_EQ(cli({"down", stack_file("never")}).status, 0);
}

}  // namespace
}  // namespace stack::test
