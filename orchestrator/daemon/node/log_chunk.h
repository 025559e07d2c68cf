// Reading a replica's json-file log incrementally, as raw lines: the one
// reader behind the engine's LogCursor (engine/log_reader.h) and a node's
// answer to a manager that reads the log of a replica it runs
// (cluster/node_routes.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace stack::orch {

// The complete lines of `path` from `offset` on (without their newlines),
// `offset` moved past the last one returned; an incomplete last line waits
// for the next call. A file that shrank (rotated or truncated) is read from
// the start. `max_bytes` > 0 stops after about that much (at a line end).
// A file that cannot be read gives no lines. A ".gz" file (a rotated file
// of the compress option) is read uncompressed, `offset` in its plain bytes.
std::vector<std::string> read_complete_lines(const std::string& path, uint64_t& offset, size_t max_bytes = 0);

}  // namespace stack::orch
