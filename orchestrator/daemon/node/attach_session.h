// `stack attach` and `stack run -i/-t` on this node: the main process's
// stream from its shim's attach.sock (runtime/shim/attach.h), which already
// speaks the exec frame protocol (orchestrator/api/framing.h):
//
//   stack attach ──unix──> stackd API thread ──unix──> stack-shim attach.sock ── pty / stdin pipe
//                          (relay_attach)
//
// The relay runs in the API connection's thread, never the engine's loop.
// It passes frames both ways unchanged, except the shim's Exit frame, which
// it returns to its caller: `run --rm` removes the one-off before the CLI
// learns the exit code, so a user who sees it sees the container gone.
//
// Ownership: the session owns its connection to the shim; closing it is a
// detach (the process runs on, its stdin stays open).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/fd.h"
#include "orchestrator/daemon/node/exec_session.h"

namespace stack::orch {

// Relays between the client's socket (with `pending`, bytes it sent after
// its request) and the shim's, until either side ends or `stop`. Returns the
// Exit frame's payload when the shim sent one (the process exited).
std::optional<std::string> relay_attach(int shim_fd, int client_fd, const std::string& pending,
                                        const std::atomic<bool>& stop);

// Connects to the shim's attach socket now, so that a missing one is an
// error before the stream is upgraded. `what` names the container.
stack::Result<stack::UniqueFd> connect_attach(const std::string& socket_path, const std::string& what);

// A session that only relays (relay_client): the Exit frame goes to the
// client as soon as it comes, or with `forward_exit` false not at all.
std::unique_ptr<ExecSession> make_attach_session(stack::UniqueFd shim, bool forward_exit);

}  // namespace stack::orch
