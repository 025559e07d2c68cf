// `stack exec` and `stack run`: the client half of the framed stream
// (docs/api.md). With a tty the local terminal goes to raw mode (restored on
// every exit path) and SIGWINCH becomes resize frames.
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
};

// The process's exit code (the CLI exits with it).
Result<int> cmd_exec(const StackOptions& o, const ExecFlags& f, bool run);

}  // namespace stack::cli
