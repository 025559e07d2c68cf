#include "runtime/shim/main_stdio.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/kernel/terminal.h"

namespace stack::shim {
namespace {

// Room in each pipe for output the log has not taken yet (slow disk). The
// pages are charged to the writer, the container, and only when used.
constexpr int kPipeSize = 256 * 1024;

stack::Result<stack::Pipe> output_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return stack::fail_errno("pipe");
  stack::Pipe pipe{stack::UniqueFd(p[0]), stack::UniqueFd(p[1])};
  (void)::fcntl(p[0], F_SETPIPE_SZ, kPipeSize);  // best effort: the default 64 KiB works too
  if (::fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) return stack::fail_errno("fcntl O_NONBLOCK");
  return pipe;
}

}  // namespace

stack::Result<MainStdio> MainStdio::make(bool terminal, bool open_stdin) {
  MainStdio s;
  s.terminal_ = terminal;
  if (terminal) {
    // setup_console replaces 0-2 with the pty's slave; until then the init
    // has /dev/null, never the shim's own stdio.
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return stack::fail_errno("socketpair");
    s.console_ours_.reset(sv[0]);
    s.console_child_.reset(sv[1]);
  }
  if (open_stdin && !terminal) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return stack::fail_errno("pipe");
    s.child_in_.reset(p[0]);
    s.input_.reset(p[1]);
  } else {
    s.child_in_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!s.child_in_) return stack::fail_errno("open /dev/null");
  }
  if (terminal) {
    s.child_out_.reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    if (!s.child_out_) return stack::fail_errno("open /dev/null");
    return s;
  }
  auto out = output_pipe();
  if (!out) return tl::unexpected(out.error());
  auto err = output_pipe();
  if (!err) return tl::unexpected(err.error());
  s.out_ = std::move(out->read);
  s.child_out_ = std::move(out->write);
  s.err_ = std::move(err->read);
  s.child_err_ = std::move(err->write);
  return s;
}

void MainStdio::fill(rt::CreateOptions& co) const {
  co.stdio[0] = child_in_.get();
  co.stdio[1] = child_out_.get();
  co.stdio[2] = child_err_ ? child_err_.get() : child_out_.get();
  co.console_fd = console_child_ ? console_child_.get() : -1;
}

stack::Result<> MainStdio::after_create() {
  child_in_.reset();
  child_out_.reset();
  child_err_.reset();
  console_child_.reset();
  if (!terminal_) return {};
  auto master = rt::receive_pty_master(console_ours_.get());
  console_ours_.reset();
  if (!master) return tl::unexpected(master.error().wrap("receive the pty master"));
  input_.reset(::fcntl(master->get(), F_DUPFD_CLOEXEC, 3));
  if (!input_) return stack::fail_errno("dup pty master");
  if (::fcntl(master->get(), F_SETFL, O_NONBLOCK) != 0) return stack::fail_errno("fcntl O_NONBLOCK");
  out_ = std::move(*master);
  return {};
}

}  // namespace stack::shim
