// A service's autoscaling memory (scheduler/autoscale.h's AutoscaleState:
// its recent recommendations and changes) and its last reading, as the
// engine keeps them: JSON under autoscale/<stack>/<service>, written by the
// supervisor after each decision, so a restarted stackd keeps its
// stabilization windows and step limits instead of starting them over.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/error.h"
#include "orchestrator/daemon/store/state_store.h"
#include "scheduler/autoscale.h"

namespace stack::orch {

// What `stack autoscale` shows of a service: its last reading (averages over
// the replicas that counted) and its last change.
struct AutoscaleReading {
  int64_t at = 0;  // ms since the epoch; 0 = no reading yet
  int ready = 0;   // replicas that counted
  std::optional<double> cpu, memory, rps;
  std::string last_reason;  // "cpu 91% > 70%: 2 -> 4" ("" = no change yet)
  int64_t last_change_at = 0;
};

struct AutoscaleRecord {
  sched::AutoscaleState state;
  AutoscaleReading reading;
};

std::string autoscale_key(const std::string& stack, const std::string& service);
std::string autoscale_to_json(const AutoscaleRecord& r);
stack::Result<AutoscaleRecord> autoscale_from_json(const std::string& text);
// service -> record; an unreadable entry is an error naming its key.
stack::Result<std::map<std::string, AutoscaleRecord>> load_autoscale(StateStore& store, const std::string& stack);

}  // namespace stack::orch
