// Units as Compose (Go's time.ParseDuration, docker/go-units RAMInBytes)
// reads them.
//   durations: "1m30s", "10s", "500ms", "1h", "1.5s", "2us", "0"; a sequence
//              of <decimal><unit> with units ns us µs ms s m h.
//   sizes:     "512m", "1g", "100k", "1.5GB", "2 MiB", "1024" (bytes);
//              k/m/g/t/p are binary (1024) multiples, as Docker does.
//   times:     Docker's --since/--until forms: a duration back from now
//              ("10m", "1h30m"), a Unix time ("1700000000", "1700000000.5")
//              or an RFC 3339 date and time ("2026-12-07T02:00:00Z",
//              "2026-12-07T03:00:00+01:00"; local time without a zone;
//              "2026-12-07", "2026-12-07T02:00").
#pragma once

#include <cstdint>
#include <string>

#include "orchestrator/compose/model.h"
#include "base/error.h"

namespace stack::compose {

// Milliseconds (sub-millisecond parts are truncated). Errors name the text.
stack::Result<Millis> parse_duration(const std::string& text);
stack::Result<uint64_t> parse_size(const std::string& text);
// Milliseconds since the epoch; `now_ms` anchors a duration.
stack::Result<int64_t> parse_time(const std::string& text, int64_t now_ms);

// The inverse for `stack config`: 90000 -> "1m30s", 500 -> "500ms", 0 -> "0s".
std::string format_duration(Millis ms);

}  // namespace stack::compose
