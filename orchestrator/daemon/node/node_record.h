// What LocalNode keeps on disk per replica, in its container dir: node.json
// (written before anything is created, so remove() can undo a half-made
// replica even after a daemon crash) and the shim's exit.json, read back.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/daemon/node/local_node.h"
#include "base/error.h"

namespace stack::orch {

struct NodeRecord {
  std::string id, name, image;
  std::string netns_path;                 // ours to delete ("" = none, or not ours)
  std::vector<std::string> networks;      // endpoints to disconnect (manager network names)
  std::map<std::string, std::string> addresses;
  int64_t started_at_ms = 0;

  std::string to_json() const;
  static stack::Result<NodeRecord> parse(const std::string& text, const std::string& origin);
};

// exit.json as the engine wants it (finished_at as ms since the epoch).
stack::Result<ExitInfo> parse_exit_record(const std::string& text, const std::string& origin);
// "2026-01-02T03:04:05.123456789Z" -> ms since the epoch; 0 when malformed.
int64_t rfc3339_to_ms(const std::string& text);

}  // namespace stack::orch
