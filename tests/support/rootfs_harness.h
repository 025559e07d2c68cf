// Harness for the rootfs tests: the container filesystem on a real kernel,
// without the rest of the container. A child unshares mount/pid/net/uts/ipc/
// cgroup namespaces, forks pid 1 of the new pid namespace, which runs
// rootfs_enter + rootfs_finalize on a busybox bundle and then reports what it
// sees, one fact per line over a pipe. Every mount lives in that throwaway
// mount namespace; the fixture checks afterwards that the host's mount table
// and /dev/null are as before.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "runtime/oci/spec.h"
#include "runtime/kernel/rootfs.h"
#include "runtime/kernel/rootfs_cgroup.h"
#include "tests/support/bundle.h"

namespace stack::rt::rootfs_harness {

namespace fs = std::filesystem;

using Facts = std::map<std::string, std::string>;
using Probe = std::function<void(Facts&)>;

struct Outcome {
  int rc = -1;  // rootfs_enter / rootfs_finalize result; -1: child died first
  ChildError err;
  Facts facts;
  std::string failure;  // what went wrong with the harness itself
};

std::string err_name(int e);
std::string describe(const std::string& path);
std::string try_write(const std::string& path);
std::string try_mkdir(const std::string& path);
std::string read_all(const std::string& path, size_t limit = 1 << 20);
std::string list_dir(const std::string& path);
std::string fs_magic(const std::string& path);
bool readonly_mount(const std::string& path);
std::string root_mountinfo();
void write_all(int fd, const void* data, size_t n);
std::string escape(const std::string& s);
std::string host_dev_null();
std::string watched_host_mounts();
// Runs the two rootfs phases as pid 1 of fresh namespaces, then `probe`.
// With `user_ns`, the namespaces belong to a new user namespace (root mapped
// to root), so the kernel's rules for less privileged mounts apply: locked
// mount flags, no mknod of devices. `locked_tmpfs`: before the user
// namespace, mount a read-only, nosuid, nodev, noexec tmpfs holding "file"
// there (in a private mount namespace); the user namespace sees those flags
// locked.
Outcome run_contained(const RootfsPlan& plan, const Probe& probe, bool user_ns = false,
                      const std::string& locked_tmpfs = "");

class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    host_mounts_ = watched_host_mounts();
    host_null_ = host_dev_null();
    ASSERT_EQ(host_null_.substr(0, 13), "chr 0666 1:3 ") << "host /dev/null is already broken";
  }
  void TearDown() override {
    if (host_mounts_.empty()) return;  // skipped
    EXPECT_EQ(watched_host_mounts(), host_mounts_) << "the host's mount table changed";
    EXPECT_EQ(host_dev_null(), host_null_) << "the host's /dev/null changed";
  }

  // The bundle's default (Docker-equivalent) spec, parsed as the runtime would.
  Spec default_spec_of(const test::Bundle& b) {
    auto s = parse_spec(b.config, "bundle config.json");
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return s ? *s : Spec{};
  }

  RootfsPlanPtr plan(const Spec& spec, const std::string& rootfs, bool no_pivot = false,
                     bool in_user_ns = false) {
    RootfsOptions o;
    o.rootfs = rootfs;
    o.no_pivot = no_pivot;
    o.in_user_ns = in_user_ns;
    auto p = plan_rootfs(spec, o);
    EXPECT_TRUE(p) << (p ? "" : p.error().message());
    return p ? std::move(*p) : nullptr;
  }

  Outcome run_ok(const RootfsPlan& plan, const Probe& probe) {
    Outcome o = run_contained(plan, probe);
    EXPECT_EQ(o.failure, "");
    EXPECT_EQ(o.rc, 0) << o.err.what << ": " << std::strerror(o.err.code);
    return o;
  }

  std::string host_mounts_;
  std::string host_null_;
};

}  // namespace stack::rt::rootfs_harness
