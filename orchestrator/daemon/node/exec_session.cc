#include "orchestrator/daemon/node/exec_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <filesystem>

#include "orchestrator/daemon/node/child_process.h"
#include "runtime/kernel/terminal.h"

namespace stack::orch {
namespace {

// How long the runtime may take to hand over the pty master.
constexpr int kConsoleTimeoutMs = 10000;

class RuntimeExecSession : public ExecSession {
 public:
  RuntimeExecSession(ChildProcess child, stack::UniqueFd in, stack::UniqueFd out, stack::UniqueFd err, std::string file)
      : child_(std::move(child)), in_(std::move(in)), out_(std::move(out)), err_(std::move(err)), file_(std::move(file)) {}
  ~RuntimeExecSession() override {
    child_ = ChildProcess();  // kills and reaps a runtime still running
    ::unlink(file_.c_str());
  }
  int stdin_fd() override { return in_.get(); }
  int stdout_fd() override { return out_.get(); }
  int stderr_fd() override { return err_.get(); }
  void resize(unsigned rows, unsigned cols) override {
    if (!tty_ || !out_) return;
    struct winsize ws {};
    ws.ws_row = static_cast<unsigned short>(rows);
    ws.ws_col = static_cast<unsigned short>(cols);
    ::ioctl(out_.get(), TIOCSWINSZ, &ws);
  }
  stack::Result<int> wait() override { return child_.wait(); }
  // With a tty stdin is a dup of the master: closing it ends nothing (the
  // master stays open for output), as with Docker's exec -t.
  void close_stdin() override { in_.reset(); }
  bool tty_ = false;

 private:
  ChildProcess child_;
  stack::UniqueFd in_, out_, err_;
  std::string file_;  // the process file, ours to remove
};

stack::Result<stack::Pipe> make_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return stack::fail_errno("pipe");
  return stack::Pipe{stack::UniqueFd(p[0]), stack::UniqueFd(p[1])};
}

// A listening socket in a fresh private directory (short path: sun_path is
// 108 bytes), removed with the directory once the master arrived.
struct ConsoleSocket {
  std::string dir, path;
  stack::UniqueFd fd;
  ~ConsoleSocket() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

stack::Result<void> listen_console(ConsoleSocket& cs) {
  char tmpl[] = "/tmp/stack-exec-XXXXXX";
  if (!::mkdtemp(tmpl)) return stack::fail_errno("mkdtemp /tmp/stack-exec-*");
  cs.dir = tmpl;
  cs.path = cs.dir + "/console.sock";
  cs.fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!cs.fd) return stack::fail_errno("socket");
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", cs.path.c_str());
  if (::bind(cs.fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return stack::fail_errno("bind " + cs.path);
  if (::listen(cs.fd.get(), 1) != 0) return stack::fail_errno("listen " + cs.path);
  return {};
}

// Accepts the runtime's connection and receives the master, unless the
// runtime exits first (it failed: its status says so).
stack::Result<stack::UniqueFd> receive_master(ConsoleSocket& cs, ChildProcess& child) {
  struct pollfd p[2] = {{cs.fd.get(), POLLIN, 0}, {child.pidfd(), POLLIN, 0}};
  int n;
  do n = ::poll(p, 2, kConsoleTimeoutMs);
  while (n < 0 && errno == EINTR);
  if (n == 0) return stack::fail("exec: the runtime did not send the terminal", ETIMEDOUT);
  if (!(p[0].revents & POLLIN)) {
    int st = child.wait();
    return stack::fail("exec: the runtime exited (status " + std::to_string(st) + ") before sending the terminal", EIO);
  }
  stack::UniqueFd conn(::accept4(cs.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return stack::fail_errno("accept console socket");
  return rt::receive_pty_master(conn.get());
}

}  // namespace

stack::Result<std::unique_ptr<ExecSession>> start_exec_session(const ExecLaunch& l) {
  std::vector<std::string> argv = {l.runtime_path, "--root", l.runtime_root, "exec", "--process", l.process_file};
  if (l.detach) argv.push_back("--detach");
  if (l.tty && !l.detach) {
    ConsoleSocket cs;
    STACK_TRY(listen_console(cs));
    argv.insert(argv.end(), {"--console-socket", cs.path, "--", l.id});
    auto child = ChildProcess::spawn(argv);
    if (!child) return tl::unexpected(child.error());
    auto master = receive_master(cs, *child);
    if (!master) return tl::unexpected(master.error());
    int in = l.interactive ? ::fcntl(master->get(), F_DUPFD_CLOEXEC, 0) : -1;
    auto s = std::make_unique<RuntimeExecSession>(std::move(*child), stack::UniqueFd(in), std::move(*master), stack::UniqueFd(),
                                                  l.process_file);
    s->tty_ = true;
    return s;
  }
  argv.insert(argv.end(), {"--", l.id});
  stack::Pipe in, out, err;
  if (!l.detach) {
    if (l.interactive) {
      auto p = make_pipe();
      if (!p) return tl::unexpected(p.error());
      in = std::move(*p);
    }
    auto o = make_pipe();
    if (!o) return tl::unexpected(o.error());
    out = std::move(*o);
    auto e = make_pipe();
    if (!e) return tl::unexpected(e.error());
    err = std::move(*e);
  }
  auto child = ChildProcess::spawn(argv, in.read.get(), out.write.get(), err.write.get());
  if (!child) return tl::unexpected(child.error());
  return std::unique_ptr<ExecSession>(std::make_unique<RuntimeExecSession>(
      std::move(*child), std::move(in.write), std::move(out.read), std::move(err.read), l.process_file));
}

}  // namespace stack::orch
