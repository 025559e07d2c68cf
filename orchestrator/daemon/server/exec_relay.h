// stackd's side of the exec/run stream (orchestrator/api/framing.h): frames
// between the client's socket and an engine ExecSession.
#pragma once

#include <atomic>
#include <string>

#include "orchestrator/daemon/engine/engine.h"

namespace stack::orch {

// stackd's half of exec/run: relays the socket's stdin/resize frames into the
// session and its stdout/stderr out as frames until the process's output
// ends, then sends the exit frame. `pending` holds bytes already read from the
// socket after the request. Returns when the exit (or error) frame is sent or
// the socket breaks; if the client goes away first, stdin is closed and the
// output drained so the process is still waited for. `stop` (stackd is
// stopping) ends the relay within 200 ms without that wait: the server joins
// this thread, and a process that runs for ever would hold the daemon's exit;
// the session's owner ends the process when it drops the session.
void relay_frames(int socket_fd, ExecSession& session, std::string pending, const std::atomic<bool>& stop);

}  // namespace stack::orch
