// The cgroup v2 device program attached for real. This hybrid host's
// unified hierarchy has no controllers, but BPF device programs need none:
// the kernel consults them for every process in the cgroup, so a child we
// move into a scratch cgroup shows what a v2 container would see.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "runtime/kernel/device_filter.h"
#include "tests/support/bundle.h"

using namespace stack::rt;

namespace {

std::string unified_root() {
  for (const char* p : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    struct statfs s;
    if (::statfs(p, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC) return p;
  }
  return "";
}

// A cgroup of our own, removed at the end (its program goes with it).
struct ScratchCgroup {
  std::string dir;
  explicit ScratchCgroup(const std::string& root)
      : dir(root + "/stack-devfilter-test-" + std::to_string(::getpid())) {
    std::filesystem::create_directory(dir);
  }
  ~ScratchCgroup() { ::rmdir(dir.c_str()); }
};

// In a child moved into `cg`: bit 0 set when /dev/null opens read-write,
// bit 1 when /dev/zero does.
int probe_in(const ScratchCgroup& cg) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::ofstream(cg.dir + "/cgroup.procs") << 0 << std::flush;
    int bits = 0;
    for (auto [path, bit] : {std::pair{"/dev/null", 1}, std::pair{"/dev/zero", 2}}) {
      int fd = ::open(path, O_RDWR | O_CLOEXEC);
      if (fd >= 0) bits |= bit;
      if (fd >= 0) ::close(fd);
    }
    _exit(bits);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(DeviceFilterKernel, AttachedProgramDecidesAndASecondCallReplacesIt) {
  STACK_REQUIRE_ROOT();
  const std::string root = unified_root();
  if (root.empty()) GTEST_SKIP() << "no cgroup2 mount";
  ScratchCgroup cg(root);

  // Positive control: no program, both open.
  EXPECT_EQ(probe_in(cg), 3);

  const DeviceCgroupRule deny_all{false, "a", std::nullopt, std::nullopt, "rwm"};
  auto set = set_device_filter(cg.dir, {deny_all, {true, "c", 1, 3, "rwm"}});
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(probe_in(cg), 1) << "only /dev/null is allowed";

  // New rules replace the old program rather than adding a second veto.
  set = set_device_filter(cg.dir, {deny_all, {true, "c", 1, 5, "rw"}});
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(probe_in(cg), 2) << "only /dev/zero is allowed now";
  auto n = device_filter_count(cg.dir);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(*n, 1u);
}

TEST(DeviceFilterKernel, BadRulesChangeNothing) {
  STACK_REQUIRE_ROOT();
  const std::string root = unified_root();
  if (root.empty()) GTEST_SKIP() << "no cgroup2 mount";
  ScratchCgroup cg(root);
  auto set = set_device_filter(cg.dir, {{true, "q", 1, 3, "rwm"}});
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().context, "linux.resources.devices[0]: type \"q\" (want a, b or c)");
  EXPECT_EQ(*device_filter_count(cg.dir), 0u);
  EXPECT_EQ(probe_in(cg), 3);
}

}  // namespace
