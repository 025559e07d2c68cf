// An exec carried out on another node of a cluster, without a terminal or
// stdin: that node runs it to completion and collects its output
// (collect_exec), the node that was asked replays it to the client as if it
// ran here (replayed_exec). Output is bounded; what is cut is said.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/error.h"
#include "orchestrator/daemon/node/exec_session.h"

namespace stack::orch {

struct ExecOutput {
  std::string out, err;
  int exit_code = 0;
};

// Reads the session's stdout and stderr to their end (each kept up to `cap`
// bytes, the rest read and dropped with a note on stderr), then waits for it.
stack::Result<ExecOutput> collect_exec(ExecSession& session, size_t cap);

// A finished session: stdout and stderr read from memory files to their end,
// no stdin, wait() gives `output.exit_code`.
stack::Result<std::unique_ptr<ExecSession>> replayed_exec(const ExecOutput& output);

}  // namespace stack::orch
