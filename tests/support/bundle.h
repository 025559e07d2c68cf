// Test fixtures shared by the privileged and integration tiers: a throwaway
// OCI bundle whose rootfs is busybox-static plus stack-probe, paths to the
// built binaries, and a subprocess runner that captures output.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stack::test {

// Path of a built executable ("stack-runtime", "stack-shim", "stack-probe").
std::string binary(const std::string& name);
// Directory with the reference data (Docker's seccomp profile, the Compose
// schema), or "" when absent (a user's clone): tests then GTEST_SKIP.
std::string shared_reference_dir();

// Reason to skip a privileged test, or "" when we are root and can make
// namespaces. Privileged tests begin with STACK_REQUIRE_ROOT().
std::string privileged_skip_reason();
#define STACK_REQUIRE_ROOT()                                                  \
  do {                                                                         \
    auto stack_skip_ = ::stack::test::privileged_skip_reason();                \
    if (!stack_skip_.empty()) GTEST_SKIP() << stack_skip_;                     \
  } while (0)

// A temporary directory removed (recursively, unmounting nothing) on scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "stack-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// bundle/config.json + bundle/rootfs with /bin/busybox, its applets as
// symlinks, /bin/probe (stack-probe), /etc/passwd and /etc/group. `config`
// starts as the runtime's default spec (Docker-equivalent) running `sh`;
// tests edit it and call write_config().
class Bundle {
 public:
  Bundle();
  const std::string& dir() const { return dir_.path(); }
  std::string rootfs() const { return dir_.path() + "/rootfs"; }
  nlohmann::json config;
  void set_args(const std::vector<std::string>& args);
  void write_config() const;

 private:
  TempDir dir_;
};

struct CmdResult {
  int status = -1;  // exit code, or 128+signal
  std::string out;
  std::string err;
};
// Runs argv, waits, captures stdout and stderr. `input` goes to stdin.
CmdResult run(const std::vector<std::string>& argv, const std::string& input = "");

// A unique container id for this test process.
std::string unique_id(const std::string& prefix = "t");

// True when `pid` still exists (and is not a zombie).
bool process_alive(pid_t pid);

std::string read_file(const std::string& path);

// Whether `path` is a mount point in this process's mount namespace.
bool mounted(const std::string& path);

// Detaches every mount stacked on `target` on scope exit, so a failing test
// leaves no mount behind.
struct MountGuard {
  std::string target;
  ~MountGuard();
};

}  // namespace stack::test
