// The framed stream of exec/run (docs/api.md): after the 101 reply each
// direction carries frames of 1 byte type, 4 bytes big-endian length, then
// the payload. Encoding and incremental decoding are pure; stackd's relay
// between a socket and an exec session is daemon/server/exec_relay.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "base/error.h"

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

}  // namespace stack::orch
