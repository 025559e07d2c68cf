// `stack exec`, `stack run` and `stack attach`: the client half of the
// framed stream (docs/api.md). With a tty the local terminal goes to raw mode
// (restored on every exit path) and SIGWINCH becomes resize frames. attach
// also watches for its detach keys (detach_keys.h), which end it with 0.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/cli/stack_commands.h"

namespace stack::cli {

struct ExecFlags {
  std::string service;
  std::vector<std::string> cmd;
  bool interactive = false;  // exec sets it; run with -i
  bool tty = false;
  int index = 1;
  std::vector<std::string> env;
  std::string user, workdir;
  bool rm = false;  // run only
  std::string detach_keys;  // attach only: "" = none
};

enum class StreamVerb { Exec, Run, Attach };

// attach: whether the service has `tty: true` in the stack file (raw mode
// and resizes follow it, as docker attach follows the container's Tty).
// False when there is no stack file to read (only -p).
bool service_tty(const StackOptions& o, const std::string& service);

// The process's exit code (the CLI exits with it); 0 after a detach.
Result<int> cmd_exec(const StackOptions& o, const ExecFlags& f, StreamVerb verb);

}  // namespace stack::cli
