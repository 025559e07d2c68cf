#include "orchestrator/daemon/node/child_process.h"

#include "runtime/kernel/protected_exe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <mutex>

extern char** environ;

namespace stack::orch {

int64_t monotonic_ms() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

namespace {
std::mutex g_protected_mu;
// Never destroyed: a spawn may be on its way to exec a path in here.
std::map<std::string, rt::ProtectedBinary>& protected_binaries() {
  static auto* m = new std::map<std::string, rt::ProtectedBinary>;
  return *m;
}
}  // namespace

stack::Result<> ChildProcess::protect(const std::string& path) {
  std::lock_guard lk(g_protected_mu);
  if (protected_binaries().count(path)) return {};
  auto p = rt::ProtectedBinary::open(path);
  if (!p) return tl::unexpected(p.error().wrap("protect " + path));
  protected_binaries().emplace(path, std::move(*p));
  return {};
}

stack::Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv, int in, int out, int err) {
  if (argv.empty()) return stack::fail("spawn: empty command", EINVAL);
  std::string exe = argv[0];
  {
    std::lock_guard lk(g_protected_mu);
    if (auto it = protected_binaries().find(exe); it != protected_binaries().end()) exe = it->second.path();
  }
  stack::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return stack::fail_errno("open /dev/null");
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  int fds[3] = {in, out, err};
  for (int i = 0; i < 3; i++) posix_spawn_file_actions_adddup2(&fa, fds[i] >= 0 ? fds[i] : null.get(), i);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, exe.c_str(), &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return stack::fail("spawn " + argv[0], rc);
  ChildProcess c;
  c.pid_ = pid;
  // Our own unreaped child: the pid cannot be reused before we wait.
  c.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!c.pidfd_) return stack::fail_errno("pidfd_open " + argv[0]);
  return c;
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, 0)), pidfd_(std::move(o.pidfd_)), status_(o.status_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    if (running()) {
      kill(SIGKILL);
      wait();
    }
    pid_ = std::exchange(o.pid_, 0);
    pidfd_ = std::move(o.pidfd_);
    status_ = o.status_;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (running()) {
    kill(SIGKILL);
    wait();
  }
}

void ChildProcess::kill(int sig) {
  if (running()) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
}

std::optional<int> ChildProcess::wait_for(int timeout_ms) {
  if (status_ || pid_ <= 0) return status_;
  struct pollfd p = {pidfd_.get(), POLLIN, 0};
  int64_t deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
  for (;;) {
    int left = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - monotonic_ms()));
    int n = ::poll(&p, 1, left);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return std::nullopt;
    break;
  }
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return status_;
}

stack::Result<CapturedRun> run_captured(const std::vector<std::string>& argv, int timeout_ms, size_t limit,
                                     const std::function<void()>& on_timeout) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return stack::fail_errno("pipe");
  stack::UniqueFd rd(p[0]), wr(p[1]);
  auto child = ChildProcess::spawn(argv, -1, wr.get(), wr.get());
  if (!child) return tl::unexpected(child.error());
  wr.reset();
  CapturedRun out;
  int64_t deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
  bool eof = false, exited = false;
  auto drain = [&] {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(rd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) eof = true;
      if (n <= 0) return;
      if (out.output.size() < limit) out.output.append(buf, std::min(static_cast<size_t>(n), limit - out.output.size()));
    }
  };
  auto left = [&] { return deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - monotonic_ms())); };
  auto timed_out = [&] {
    out.timed_out = true;
    if (on_timeout) on_timeout();
    child->kill(SIGKILL);
    child->wait();
    return out;
  };
  // Until EOF, or the child exited (what it left running may hold the pipe).
  while (!eof && !exited) {
    struct pollfd fds[2] = {{rd.get(), POLLIN, 0}, {child->pidfd(), POLLIN, 0}};
    int n = ::poll(fds, 2, left());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return timed_out();
    if (fds[0].revents) drain();
    if (fds[1].revents) exited = true;
  }
  drain();
  auto st = child->wait_for(left());
  if (!st) return timed_out();
  out.status = *st;
  return out;
}

}  // namespace stack::orch
