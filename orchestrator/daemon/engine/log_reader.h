// Reading replicas' json-file logs as the shim writes them
// (runtime/shim/log_writer.h): one {"log","stream","time"} object per line,
// rotated files oldest first. Used by EngineImpl::logs (engine_logs.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/daemon/engine/engine.h"

namespace stack::orch {

// "2024-01-02T03:04:05.123456789Z" (or with +hh:mm) -> ns since the epoch.
std::optional<int64_t> parse_rfc3339_ns(const std::string& text);

// One json-file line -> LogLine (service/replica left empty); nullopt for a
// line that does not parse. The trailing newline of "log" is dropped.
std::optional<LogLine> parse_log_line(const std::string& line);

// A file read incrementally: complete lines from `offset` on; `offset` moves
// past the last complete line. A file that shrank (rotated or truncated) is
// read again from the start.
struct LogCursor {
  std::string path;
  uint64_t offset = 0;
  std::vector<LogLine> read_new();
};

}  // namespace stack::orch
