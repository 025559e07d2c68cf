// Process and text helpers of the runtime benchmark: spawning runtime verbs
// with captured output, waiting with a timeout, percentiles.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stack::bench {

constexpr int kVerbTimeoutMs = 30000;

// The command line of stack-bench-runtime.
struct Options {
  int runs = 100;
  int warmup = 5;
  int settle_ms = 50;  // idle time before each lifecycle (see README: cgroup migration and RCU)
  std::vector<std::string> only;  // runtime names to run; empty: all
  std::string json_file;
  std::string stack_runtime, runc, crun, shim, conmon;
  std::string tmpdir;
  bool no_crun = false, no_memory = false, keep = false;
};


class Capture {
 public:
  explicit Capture(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
  }
  ~Capture() { ::close(fd_); }
  int fd() const { return fd_; }
  void clear() const { (void)!::ftruncate(fd_, 0); }
  std::string text() const {
    std::string s;
    char buf[8192];
    off_t off = 0;
    for (ssize_t n; (n = ::pread(fd_, buf, sizeof buf, off)) > 0; off += n) s.append(buf, static_cast<size_t>(n));
    return s;
  }

 private:
  int fd_ = -1;
};

std::string trim(std::string s);

struct CmdResult {
  int status = -1;  // exit code, 128+signal, -1 spawn failure or timeout
  std::string output;
  std::string describe(const std::vector<std::string>& argv) const {
    std::string cmd;
    for (auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    std::string why = status == -1 ? "failed to run or timed out" : "exited " + std::to_string(status);
    return "`" + cmd + "` " + why + (output.empty() ? "" : ":\n    " + trim(output));
  }
};

uint64_t now_ns();
double ms_between(uint64_t a, uint64_t b);
std::string read_text(const std::string& path);
std::string first_line(const std::string& s);
std::string lower(std::string s);
bool executable(const std::string& p);
std::string in_path(const std::string& name);
std::string self_dir();
std::string find_built(const std::string& name);
bool is_static_elf(const std::string& path);
std::optional<int> wait_child(pid_t pid, int timeout_ms);
pid_t spawn(const std::vector<std::string>& argv, int out_fd);
CmdResult run_cmd(const Capture& cap, const std::vector<std::string>& argv, int timeout_ms = kVerbTimeoutMs);
void reap_strays();
pid_t read_pid(const std::string& path);
double percentile(std::vector<double> v, double q);
inline int exit_code(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }


}  // namespace stack::bench
