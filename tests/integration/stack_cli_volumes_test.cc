// Volumes as Docker makes them, end to end through `stack up`: anonymous
// volumes (a service's `- /path` and the image's VOLUMEs), the image's
// content copied into a new empty volume (and `nocopy`), and volumes_from.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;

class StackVolumes : public StackdFixture {
 protected:
  // stack-test/seeded:1: busybox with /data/seed.txt (uid 1000, 0640) and
  // /data/sub -> link, declared VOLUME /data.
  void SetUp() override {
    StackdFixture::SetUp();
    if (HasFatalFailure()) return;
    const std::string d = dir_.path() + "/seeded";
    fs::create_directories(d + "/bin");
    fs::create_directories(d + "/data/sub");
    fs::copy_file("/bin/busybox", d + "/bin/busybox");
    for (const char* a : {"sh", "sleep", "cat", "ls", "stat", "touch", "echo"}) fs::create_symlink("busybox", d + "/bin/" + a);
    std::ofstream(d + "/data/seed.txt") << "from the image\n";
    ASSERT_EQ(::chown((d + "/data/seed.txt").c_str(), 1000, 1000), 0);
    ASSERT_EQ(::chmod((d + "/data/seed.txt").c_str(), 0640), 0);
    fs::create_symlink("../seed.txt", d + "/data/sub/link");
    const std::string tar = dir_.path() + "/seeded.tar";
    ASSERT_EQ(run({"tar", "--numeric-owner", "-C", d, "-cf", tar, "."}).status, 0);
    auto imported = run({binary("stack"), "--image-root", root() + "/images", "image", "import", "--change",
                         "VOLUME /data", "--change", "CMD [\"sh\"]", tar, "stack-test/seeded:1"});
    ASSERT_EQ(imported.status, 0) << imported.err;
  }
  std::string exec(const std::string& file, const std::string& service, const std::string& cmd) {
    auto r = stack({"exec", "-T", "-f", file, service, "sh", "-c", cmd});
    return r.out + (r.status ? "(exit " + std::to_string(r.status) + ") " + r.err : "");
  }
  std::string anonymous_root(const std::string& stack_name) { return root() + "/volumes/.anonymous/" + stack_name; }
};

// The image's VOLUME gets an anonymous volume filled from the image; it
// outlives the replica and `down`, and `down -v` removes it.
TEST_F(StackVolumes, AnImageVolumeIsAnonymousAndFilledFromTheImage) {
  const std::string file = write_stack_file("anon", R"yaml(name: anon
services:
  app:
    image: stack-test/seeded:1
    command: [sleep, "1000"]
    volumes:
      - /cache
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(exec(file, "app", "cat /data/seed.txt; stat -c '%u:%g %a' /data/seed.txt; cat /data/sub/link"),
            "from the image\n1000:1000 640\nfrom the image\n");
  // Both are volumes of their own (bind mounts from the host), not the layer.
  const std::string mounts = exec(file, "app", "cat /proc/mounts");
  EXPECT_NE(mounts.find(" /data "), std::string::npos) << mounts;
  EXPECT_NE(mounts.find(" /cache "), std::string::npos) << mounts;
  EXPECT_EQ(exec(file, "app", "echo kept > /data/mine; echo kept > /cache/mine"), "");

  // A restart and a down/up (new containers of the slot) keep them.
  ASSERT_EQ(stack({"-f", file, "restart", "app"}).status, 0);
  EXPECT_EQ(exec(file, "app", "cat /data/mine /cache/mine"), "kept\nkept\n");
  ASSERT_EQ(stack({"down", "-f", file}).status, 0);
  EXPECT_TRUE(fs::exists(anonymous_root("anon")));
  ASSERT_EQ(stack({"up", "-d", "--wait", "-f", file}).status, 0);
  EXPECT_EQ(exec(file, "app", "cat /data/mine /cache/mine"), "kept\nkept\n");

  // A one-off gets fresh ones, filled from the image too; --rm removes them.
  auto one_off = stack({"-f", file, "run", "--rm", "-T", "app", "sh", "-c", "cat /data/seed.txt; ls /data/mine"});
  EXPECT_NE(one_off.out.find("from the image"), std::string::npos) << one_off.out << one_off.err;
  EXPECT_NE(one_off.status, 0) << "the slot's volume is not the one-off's";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(anonymous_root("anon"), ec))
    EXPECT_EQ(e.path().filename().string().find("-run-"), std::string::npos) << e.path() << " left by run --rm";

  ASSERT_EQ(stack({"down", "-v", "-f", file}).status, 0);
  EXPECT_FALSE(fs::exists(anonymous_root("anon"))) << "down -v leaves the anonymous volumes";
}

// A new named volume is filled from the image at its target (Docker's
// copy-up) unless nocopy; one that holds data is never touched.
TEST_F(StackVolumes, ANewNamedVolumeIsFilledFromTheImageUnlessNocopy) {
  const std::string file = write_stack_file("named", R"yaml(name: named
services:
  app:
    image: stack-test/seeded:1
    command: [sleep, "1000"]
    volumes:
      - data:/data
  bare:
    image: stack-test/seeded:1
    command: [sleep, "1000"]
    volumes:
      - type: volume
        source: empty
        target: /data
        volume:
          nocopy: true
volumes:
  data: {}
  empty: {}
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(exec(file, "app", "cat /data/seed.txt"), "from the image\n");
  EXPECT_EQ(exec(file, "bare", "ls -A /data"), "") << "nocopy";
  const std::string host = root() + "/volumes/named_data";
  EXPECT_TRUE(fs::exists(host + "/seed.txt"));

  // Not empty: a later start copies nothing back.
  fs::remove(host + "/seed.txt");
  std::ofstream(host + "/own") << "x";
  ASSERT_EQ(stack({"down", "-f", file}).status, 0);
  ASSERT_EQ(stack({"up", "-d", "--wait", "-f", file}).status, 0);
  EXPECT_EQ(exec(file, "app", "ls -A /data"), "own\nsub\n") << "seed.txt copied back";
  ASSERT_EQ(stack({"down", "-v", "-f", file}).status, 0);
}

// volumes_from: a service's volume and bind mounts at the same targets,
// read-only with :ro, and its anonymous volumes too.
TEST_F(StackVolumes, VolumesFromSharesAnotherServicesVolumes) {
  const std::string file = write_stack_file("from", R"yaml(name: from
services:
  writer:
    image: stack-test/seeded:1
    command: [sh, -c, "echo shared > /shared/note; echo anon > /scratch/note; exec sleep 1000"]
    volumes:
      - shared:/shared
      - /scratch
  reader:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    volumes_from:
      - writer:ro
volumes:
  shared: {}
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("volumes_from"), std::string::npos) << "not an ignored field any more: " << up.err;
  ASSERT_TRUE(wait_for([&] { return exec(file, "reader", "cat /shared/note /scratch/note") == "shared\nanon\n"; }))
      << exec(file, "reader", "cat /shared/note /scratch/note");
  EXPECT_NE(exec(file, "reader", "touch /shared/x").find("exit"), std::string::npos) << "read-only";
  ASSERT_EQ(stack({"down", "-v", "-f", file}).status, 0);
}

}  // namespace
}  // namespace stack::test
