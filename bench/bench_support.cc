#include "bench/bench_support.h"

#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#ifndef STACK_BENCH_BINARY_DIR
#define STACK_BENCH_BINARY_DIR ""
#endif

extern char** environ;

namespace stack::bench {

namespace fs = std::filesystem;

// ---- small helpers ----------------------------------------------------------

uint64_t now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

double ms_between(uint64_t a, uint64_t b) { return static_cast<double>(b - a) / 1e6; }

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string first_line(const std::string& s) {
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool executable(const std::string& p) { return !p.empty() && ::access(p.c_str(), X_OK) == 0; }

std::string in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string dir; std::getline(ss, dir, ':');)
    if (executable(dir + "/" + name)) return dir + "/" + name;
  return "";
}

std::string self_dir() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "" : p.parent_path().string();
}

// A built binary of this project: next to the bench in the build tree
// (<build>/bench/../runtime/NAME), else the build dir this bench was
// configured for.
std::string find_built(const std::string& name) {
  std::vector<std::string> candidates;
  std::string here = self_dir();
  if (!here.empty()) {
    candidates.push_back(here + "/" + name);
    candidates.push_back(here + "/../runtime/" + name);
  }
  std::string bin = STACK_BENCH_BINARY_DIR;
  if (!bin.empty()) candidates.push_back(bin + "/runtime/" + name);
  for (auto& c : candidates)
    if (executable(c)) return fs::weakly_canonical(c).string();
  return "";
}

// A statically linked ELF has no PT_INTERP: it runs in a rootfs without libc.
bool is_static_elf(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!f.read(reinterpret_cast<char*>(&eh), sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64)
    return false;
  for (int i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph{};
    f.seekg(static_cast<std::streamoff>(eh.e_phoff + static_cast<uint64_t>(i) * eh.e_phentsize));
    if (!f.read(reinterpret_cast<char*>(&ph), sizeof ph)) return false;
    if (ph.p_type == PT_INTERP) return false;
  }
  return true;
}

// ---- processes --------------------------------------------------------------

// Waits for our child `pid` up to `timeout_ms`; on timeout it is killed and
// reaped and nullopt returned. Otherwise the waitpid status.
std::optional<int> wait_child(pid_t pid, int timeout_ms) {
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pfd >= 0) {
    struct pollfd p{pfd, POLLIN, 0};
    int r;
    do r = ::poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    ::close(pfd);
    if (r == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return std::nullopt;
    }
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return std::nullopt;
  }
  return st;
}


// All output of the runtime processes goes to one O_APPEND file, emptied
// before every command: not a pipe, because the container's init inherits
// create's stdio and would hold a pipe open.


// posix_spawn (vfork-like: the bench's own size does not matter), stdin
// /dev/null, stdout and stderr to `out_fd`.
pid_t spawn(const std::vector<std::string>& argv, int out_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  return pid;
}



CmdResult run_cmd(const Capture& cap, const std::vector<std::string>& argv, int timeout_ms) {
  cap.clear();
  CmdResult r;
  pid_t pid = spawn(argv, cap.fd());
  if (pid < 0) {
    r.output = std::string("spawn: ") + std::strerror(errno);
    return r;
  }
  auto st = wait_child(pid, timeout_ms);
  r.status = st ? exit_code(*st) : -1;
  r.output = cap.text();
  if (!st) r.output += "\n(timed out after " + std::to_string(timeout_ms / 1000) + " s, killed)";
  return r;
}

void reap_strays() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

pid_t read_pid(const std::string& path) {
  std::string s = trim(read_text(path));
  if (s.empty()) return -1;
  try {
    return static_cast<pid_t>(std::stol(s));
  } catch (...) {
    return -1;
  }
}

// ---- statistics -------------------------------------------------------------

// Linear interpolation between closest ranks (numpy's default).
double percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos)), hi = static_cast<size_t>(std::ceil(pos));
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace stack::bench
