// The framed stream of exec/run (docs/api.md): after the 101 reply each
// direction carries frames of 1 byte type, 4 bytes big-endian length, then
// the payload. Encoding and incremental decoding are pure; relay_frames()
// moves bytes between a socket and an ExecSession (stackd's side).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "orchestrator/daemon/engine.h"
#include "runtime/kernel/error.h"

namespace stack::orch {

enum class FrameType : uint8_t { Stdin = 0, Stdout = 1, Stderr = 2, Exit = 3, Resize = 4, Error = 5 };

struct Frame {
  FrameType type = FrameType::Stdout;
  std::string payload;
};

inline constexpr size_t kFrameHeader = 5;
inline constexpr uint32_t kMaxFramePayload = 1u << 20;

std::string encode_frame(FrameType type, const std::string& payload);

// Feed bytes as they arrive; pop whole frames. A frame longer than
// kMaxFramePayload or of an unknown type is a protocol error (the peer is
// broken): error() says which, and nothing more is decoded.
class FrameDecoder {
 public:
  void feed(const char* data, size_t size);
  std::optional<Frame> next();
  const std::string& error() const { return error_; }

 private:
  std::string buf_;
  std::string error_;
};

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
