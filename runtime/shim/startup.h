// How the shim leaves its caller and tells it whether the container started.
//
// Foreground: the shim is the caller's child and stays so; "started <pid>"
// goes to its stdout, an error to its stderr, and it exits with the
// container's status later.
//
// --detach (double fork): the process the caller started (A) forks B, B
// calls setsid and forks C, the shim proper, and exits. C is then nobody's
// child in the caller's tree (it is re-parented to init or the nearest
// subreaper), leads no session (so it can never regain a controlling
// terminal), and outlives the caller. A waits on a pipe until C writes one
// line, "started <pid>" or "error <message>", prints it (stdout or stderr)
// and exits 0 or kShimFailed; EOF without a line (C died) is an error too.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.h"
#include "base/fd.h"

namespace stack::shim {

// Exit status for the shim's own failures (bad arguments, the container
// could not be created or started), as `docker run` uses 125; any other
// status is the container's.
inline constexpr int kShimFailed = 125;

class StartupReport {
 public:
  StartupReport() = default;  // foreground
  explicit StartupReport(stack::UniqueFd pipe) : pipe_(std::move(pipe)), detached_(true) {}
  bool detached() const { return detached_; }
  // At most one of these is sent; later calls do nothing.
  void started(pid_t container_pid);
  void failed(const std::string& message);
  // Warnings go to the caller's stderr while it still listens.
  void warn(const std::string& message) const;

 private:
  void send(const std::string& line);
  stack::UniqueFd pipe_;  // closed once the verdict is sent
  bool detached_ = false;
  bool sent_ = false;
};

// Runs in A: forks, and returns only in C (with the pipe's write end); A and
// B exit inside. On a failed fork A gets the error.
stack::Result<StartupReport> detach_from_caller();

}  // namespace stack::shim
