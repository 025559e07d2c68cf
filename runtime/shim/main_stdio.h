// The container's main process's stdio, as the shim sets it up around
// create_container. The shim owns our ends for the container's life:
//
//   no terminal:  stdout, stderr  pipes, read by the shim's LogStreams
//                 stdin           /dev/null, or with --stdin (stdin_open) a
//                                 pipe whose write end the shim keeps, so the
//                                 process never sees EOF unless told to
//   terminal:     a pty from the container's devpts (process.terminal, set
//                 by stackd for tty: true); the container's init sends the
//                 master over a socket pair (the runtime's console socket).
//                 The master carries stdout (stderr merged, as in Docker)
//                 and takes input and window sizes.
#pragma once

#include "base/error.h"
#include "base/fd.h"
#include "runtime/container/container.h"

namespace stack::shim {

class MainStdio {
 public:
  static stack::Result<MainStdio> make(bool terminal, bool open_stdin);

  // The child's ends into `co` (valid until after_create()).
  void fill(rt::CreateOptions& co) const;
  // After create_container: closes the child's ends (the container holds
  // them now, so its exit closes the pipes) and, with a terminal, receives
  // the pty master.
  stack::Result<> after_create();

  bool terminal() const { return terminal_; }
  // Read ends for the LogStreams; err is invalid with a terminal.
  stack::UniqueFd take_out() { return std::move(out_); }
  stack::UniqueFd take_err() { return std::move(err_); }
  // The stdin pipe's write end or a dup of the pty master; invalid when
  // stdin is /dev/null.
  stack::UniqueFd take_input() { return std::move(input_); }

 private:
  bool terminal_ = false;
  stack::UniqueFd child_in_, child_out_, child_err_, console_child_;
  stack::UniqueFd out_, err_, input_, console_ours_;
};

}  // namespace stack::shim
