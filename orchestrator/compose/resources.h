// The cgroup fields of a service beyond cpus/mem_limit/pids_limit
// (model.h ResourceTuning): mem_reservation, memswap_limit, mem_swappiness,
// oom_kill_disable, cpu_period, cpu_quota, blkio_config and
// device_cgroup_rules. Ranges and cross-field rules are Docker's, checked
// while loading so that a bad value is an error at its file:line rather than
// a failed container later.
#pragma once

#include <optional>
#include <string>

#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

// Reads `key` into `t` when it is one of these fields; false when it is not.
stack::Result<bool> read_tuning_field(const std::string& key, const Node& value, const std::string& path,
                                   ResourceTuning& t);

// Docker's rules across fields, once the service is read (mem_limit
// resolved): memswap_limit needs a mem_limit and is at least it;
// mem_reservation is at most mem_limit; cpus excludes cpu_period and
// cpu_quota. `service` is the service's node (for file:line).
stack::Result<void> check_tuning(const Node& service, const std::string& base, const Service& s);

// A device cgroup rule as Docker writes one: "TYPE MAJOR:MINOR ACCESS", TYPE
// a (all), b or c, MAJOR and MINOR a number or *, ACCESS some of r, w, m.
struct DeviceRuleText {
  char type = 'a';
  std::optional<int64_t> major, minor;  // unset: *
  std::string access;
};
std::optional<DeviceRuleText> parse_device_cgroup_rule(const std::string& text);

}  // namespace stack::compose
