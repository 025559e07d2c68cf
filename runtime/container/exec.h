// exec: a new process inside a running (or created) container. It joins every
// namespace of the container's init and its cgroup, and gets the container's
// seccomp profile plus the capabilities, user and rlimits of its own process
// spec (by default the container's, as Docker's exec does).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "runtime/oci/spec.h"
#include "runtime/container/state.h"
#include "base/error.h"

namespace stack::rt {

struct ExecOptions {
  std::string id;
  Process process;             // complete process spec (see exec_process_from)
  std::string console_socket;  // with process.terminal: send the pty master here...
  bool detach = false;         // -d: do not wait, print nothing
  std::string pid_file;
  int preserve_fds = 0;
};

// The container's own process with args (and optionally env/cwd/user)
// replaced: what `exec ID CMD...` runs.
Result<Process> exec_process_from(const StateDir& dir, const std::string& id);

// Runs the process. Returns its exit status (128+signal when killed), or 0
// at once with detach. With process.terminal and no console socket, the pty
// is proxied to our own stdio.
Result<int> exec_in_container(const StateDir& dir, const ExecOptions& options);

}  // namespace stack::rt
