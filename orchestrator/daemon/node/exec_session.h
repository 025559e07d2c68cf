// ExecSession over a `stack-runtime exec --process FILE ID` subprocess.
// Without a tty the process's stdio are pipes to us (stdin only when
// interactive); with a tty the runtime connects to a Unix socket of ours
// (--console-socket) and sends the pty master over it (SCM_RIGHTS), which
// becomes stdout_fd(); resize() sets its window size (TIOCSWINSZ).
//
// Ownership: the session owns the runtime child, every fd it hands out and
// the process file (removed when the session ends; also on a failed start);
// dropping it without wait() kills the runtime (the process inside then
// sees its stdio close).
#pragma once

#include <memory>
#include <string>

#include "orchestrator/daemon/engine/engine.h"
#include "base/error.h"

namespace stack::orch {

struct ExecLaunch {
  std::string runtime_path;
  std::string runtime_root;
  std::string id;
  std::string process_file;  // process.json (terminal set when tty); the session removes it
  bool tty = false;
  bool interactive = false;
  bool detach = false;
};

stack::Result<std::unique_ptr<ExecSession>> start_exec_session(const ExecLaunch& launch);

}  // namespace stack::orch
