#include "orchestrator/api/framing.h"

namespace stack::orch {

std::string encode_frame(FrameType type, const std::string& payload) {
  std::string out;
  out.reserve(kFrameHeader + payload.size());
  auto n = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out += payload;
  return out;
}

void FrameDecoder::feed(const char* data, size_t size) {
  if (error_.empty()) buf_.append(data, size);
}

std::optional<Frame> FrameDecoder::next() {
  if (!error_.empty() || buf_.size() < kFrameHeader) return std::nullopt;
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(buf_[i])); };
  uint8_t type = static_cast<uint8_t>(buf_[0]);
  uint32_t n = (b(1) << 24) | (b(2) << 16) | (b(3) << 8) | b(4);
  if (type > static_cast<uint8_t>(FrameType::Error)) {
    error_ = "unknown frame type " + std::to_string(type);
    return std::nullopt;
  }
  if (n > kMaxFramePayload) {
    error_ = "frame of " + std::to_string(n) + " bytes exceeds the limit";
    return std::nullopt;
  }
  if (buf_.size() < kFrameHeader + n) return std::nullopt;
  Frame f{static_cast<FrameType>(type), buf_.substr(kFrameHeader, n)};
  buf_.erase(0, kFrameHeader + n);
  return f;
}

}  // namespace stack::orch
