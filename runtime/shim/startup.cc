#include "runtime/shim/startup.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "base/io.h"

namespace stack::shim {
namespace {

// A: relays C's verdict and exits.
[[noreturn]] void wait_for_verdict(int read_fd) {
  std::string line;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(read_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
    if (line.find('\n') != std::string::npos) break;
  }
  if (auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl + 1);
  if (line.rfind("started ", 0) == 0) {
    (void)io::write_all(1, line);
    _exit(0);
  }
  if (line.rfind("error ", 0) == 0) {
    (void)io::write_all(2, "stack-shim: " + line.substr(6));
    _exit(kShimFailed);
  }
  (void)io::write_all(2, "stack-shim: the shim exited before the container started\n");
  _exit(kShimFailed);
}

}  // namespace

void StartupReport::send(const std::string& line) {
  if (sent_) return;
  sent_ = true;
  if (detached_) {
    (void)io::write_all(pipe_.get(), line);
    pipe_.reset();
  } else {
    bool error = line.rfind("error ", 0) == 0;
    (void)io::write_all(error ? 2 : 1, error ? "stack-shim: " + line.substr(6) : line);
  }
}

void StartupReport::started(pid_t container_pid) { send("started " + std::to_string(container_pid) + "\n"); }

void StartupReport::failed(const std::string& message) {
  std::string one_line = message;
  for (auto& c : one_line)
    if (c == '\n') c = ' ';
  send("error " + one_line + "\n");
}

void StartupReport::warn(const std::string& message) const {
  // Detached, stderr is still the caller's until started() (then /dev/null).
  (void)io::write_all(2, "stack-shim: warning: " + message + "\n");
}

stack::Result<StartupReport> detach_from_caller() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return stack::fail_errno("pipe");
  stack::UniqueFd rd(p[0]), wr(p[1]);
  pid_t b = ::fork();
  if (b < 0) return stack::fail_errno("fork");
  if (b > 0) {
    wr.reset();
    int st;
    while (::waitpid(b, &st, 0) < 0 && errno == EINTR) {
    }
    wait_for_verdict(rd.get());
  }
  // B: a new session, then the fork that leaves it.
  rd.reset();
  if (::setsid() < 0) {
    (void)io::write_all(wr.get(), std::string("error setsid: ") + std::strerror(errno) + "\n");
    _exit(kShimFailed);
  }
  pid_t c = ::fork();
  if (c < 0) {
    (void)io::write_all(wr.get(), std::string("error fork: ") + std::strerror(errno) + "\n");
    _exit(kShimFailed);
  }
  if (c > 0) _exit(0);
  // C: nothing of the caller's cwd stays pinned (a mount could not be
  // unmounted while we hold it).
  if (::chdir("/") != 0) {
  }
  return StartupReport(std::move(wr));
}

}  // namespace stack::shim
