// The memory a per-container monitor keeps (stack-shim against conmon),
// read from /proc/<pid>/smaps_rollup of a monitor holding one idle container.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/bench_support.h"

namespace stack::bench {

using json = nlohmann::json;

struct Mem {
  long rss_kb = -1, pss_kb = -1, private_kb = -1;
  json to_json() const { return {{"rss_kb", rss_kb}, {"pss_kb", pss_kb}, {"private_kb", private_kb}}; }
};

struct MemResult {
  std::string monitor;  // stack-shim / conmon
  std::optional<Mem> mem;
  std::string note;  // why it was skipped or failed
};

std::optional<Mem> smaps_rollup(pid_t pid);
// stack-shim --detach with `sleep 60`; the shim (re-parented to us) is
// measured once the container runs, then the container is killed and deleted.
MemResult measure_shim(const Capture& cap, const Options& o, const std::string& tmp, const std::string& bundle);
MemResult measure_conmon(const Capture& cap, const Options& o, const std::string& tmp, const std::string& bundle);

}  // namespace stack::bench
