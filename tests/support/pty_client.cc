#include "tests/support/pty_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

#include "base/io.h"

namespace stack::test {

PtyClient::PtyClient(const std::vector<std::string>& argv, unsigned rows, unsigned cols) {
  master_.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master_ || ::grantpt(master_.get()) != 0 || ::unlockpt(master_.get()) != 0) return;
  const char* slave_name = ::ptsname(master_.get());
  if (!slave_name) return;
  std::string slave = slave_name;
  resize(rows, cols);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls from here to exec.
    ::setsid();
    int fd = ::open(slave.c_str(), O_RDWR);
    if (fd < 0 || ::ioctl(fd, TIOCSCTTY, 0) != 0) ::_exit(126);
    for (int i = 0; i < 3; i++) ::dup2(fd, i);
    if (fd > 2) ::close(fd);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

PtyClient::~PtyClient() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void PtyClient::type(const std::string& keys) { (void)io::write_all(master_.get(), keys, "pty"); }

void PtyClient::resize(unsigned rows, unsigned cols) {
  struct winsize ws{};
  ws.ws_row = static_cast<unsigned short>(rows);
  ws.ws_col = static_cast<unsigned short>(cols);
  ::ioctl(master_.get(), TIOCSWINSZ, &ws);
}

void PtyClient::drain(int timeout_ms) {
  pollfd p{master_.get(), POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return;
  char buf[4096];
  ssize_t n = ::read(master_.get(), buf, sizeof buf);
  if (n > 0) shown_.append(buf, static_cast<size_t>(n));
}

bool PtyClient::wait_for_output(const std::string& text, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (shown_.find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= end) return false;
    drain(200);
  }
  return true;
}

int PtyClient::wait_exit(std::chrono::seconds limit) {
  if (pid_ <= 0) return -1;
  auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    if (std::chrono::steady_clock::now() >= end) return -1;
    drain(200);  // keep reading: a child blocked on a full terminal never exits
  }
}

}  // namespace stack::test
