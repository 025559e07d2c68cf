// x-autoscale (stack's extension; Compose ignores x-* keys): the replicas a
// service runs, between min and max, following what its replicas use.
//   x-autoscale:
//     min: 2                     # 1 unless given (1..10000); max >= min, required
//     max: 10
//     cpu: 70%                   # of the replica's CPU: its cpus limit, else
//                                # its reservation, else one CPU
//     memory: 80%                # of its memory limit (one is required then)
//     requests_per_second: 200   # per replica, on its published ports
//     scale_up: {stabilization: 0s, max_step: 4, period: 15s}
//     scale_down: {stabilization: 300s, max_step: 1, period: 60s}
// At least one target. Percentages are "70%" or 70 (0 < p <= 1000).
// Errors name the file, line and field.
#pragma once

#include <string>

#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

stack::Result<Autoscale> parse_autoscale(const Node& n, const std::string& path);
// The resolved form as JSON text (what `stack config` shows): every field,
// defaults filled in, durations as "15s", percentages as "70%".
std::string autoscale_json(const Autoscale& a);

}  // namespace stack::compose
