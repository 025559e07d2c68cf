// A service's `logging:` (driver and options), checked while loading, and
// what it means for the replica's log: which driver the node uses and where
// json-file rotates.
//
// Drivers: json-file (the default; rotation at 10 MiB x 3 files unless the
// options say otherwise: Docker's default is no rotation at all, which fills
// disks), local (Docker's defaults for it, 20 MiB x 5; the same file format
// here), none (output is read and dropped; `stack logs` has nothing). Any
// other driver (syslog, journald, fluentd, ...) needs a daemon stack does not
// talk to: a warning, and json-file is used. Options: max-size (at least
// 4 KiB), max-file (1..100), compress (rotated files gzipped, as Docker's
// <file>.N.gz); others are ignored with a warning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/compose/loader.h"
#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

stack::Result<Logging> read_logging(const Node& value, const std::string& path, std::vector<Warning>& warnings);

// What the node gives the shim.
struct LogSettings {
  bool enabled = true;  // false: driver none
  std::optional<uint64_t> max_size;
  std::optional<unsigned> max_files;
  bool compress = false;  // rotated files gzipped
};
LogSettings log_settings(const Logging& logging);

}  // namespace stack::compose
