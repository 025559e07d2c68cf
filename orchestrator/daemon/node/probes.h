// Health probes with their timeout enforced, Docker's result shape: exit
// code 0 = healthy, the first 4 KiB of output kept.
// - exec: `stack-runtime --root R exec --pid-file F -- ID ARGV...` as a
//   subprocess; on timeout the process inside the container (its pid from F)
//   and the runtime are killed, exit code -1 and "Health check exceeded
//   timeout (Ns)", as Docker.
// - http: one HTTP/1.0 GET from the host to address:port/path; healthy when
//   the status is in [status_min, status_max].
// - tcp: healthy when a connection is accepted.
#pragma once

#include <string>

#include "scheduler/model.h"

namespace stack::orch {

struct ExecProbeTarget {
  std::string runtime_path;  // stack-runtime
  std::string runtime_root;
  std::string id;
  std::string scratch_dir;   // for the pid file
};

inline constexpr size_t kProbeOutputLimit = 4096;

sched::ProbeResult exec_probe(const ExecProbeTarget& target, const sched::HealthSpec& spec);
sched::ProbeResult http_probe(const std::string& address, const sched::HealthSpec& spec);
sched::ProbeResult tcp_probe(const std::string& address, const sched::HealthSpec& spec);

}  // namespace stack::orch
