// What travels through the cluster store between the leader and a node
// (keys in cluster_keys.h), as JSON:
//
//   sources/<stack>/<h>  The project and networks replicas are cut from
//                        (one per `up` that changed them, written once and
//                        shared by all its assignments; <h> hashes them).
//   assign/<node>/<id>   Assignment: the replica (stack, service, slot, id)
//                        and the key of its source; the node makes the
//                        ReplicaPlan itself (make_plan), with its own volume
//                        directory.
//   tasks/<node>/<id>    TaskReport: the node's facts of that container.
//   signals/<node>/<id>  {"signal": N, "nonce": ...}: one delivery per put.
//   probes/<node>/<id>   ProbeRequest: one health probe; its answer is the
//                        TaskReport's `probe` with the same nonce.
//
// Pure (no I/O): parse errors name the key's part that is wrong.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "orchestrator/daemon/node/local_node.h"
#include "base/error.h"
#include "scheduler/model.h"

namespace stack::orch {

// The source of `plan` (which must carry one) as it is stored: its key and
// JSON, made once per PlanSource however many replicas share it.
struct SourceText {
  std::string key;
  std::shared_ptr<const std::string> body;
};
SourceText source_text(const ReplicaPlan& plan);
stack::Result<std::shared_ptr<const PlanSource>> source_from_json(const std::string& body);

// The assignment of `plan` (which must carry its source), naming the
// source's key.
std::string assignment_to_json(const ReplicaPlan& plan);
// The source an assignment names (from the store, or a cache of the node's).
using SourceLookup = std::function<stack::Result<std::shared_ptr<const PlanSource>>(const std::string& key)>;
// The plan a node runs for an assignment; volumes under `volume_root`.
stack::Result<ReplicaPlan> plan_from_assignment(const std::string& text, const std::string& volume_root,
                                                const SourceLookup& source);

struct TaskReport {
  enum class State { Running, Exited, Failed };
  State state = State::Running;
  ReplicaRuntime runtime;  // Running (and Exited: its last facts)
  ExitInfo exit;           // Exited
  std::string error;       // Failed: why the node could not create or start it
  // The answer to the last probe request, with that request's nonce.
  std::optional<sched::ProbeResult> probe;
  std::string probe_nonce;
};
std::string report_to_json(const TaskReport& r);
stack::Result<TaskReport> report_from_json(const std::string& text);

struct ProbeRequest {
  sched::HealthSpec spec;
  std::string address;  // the replica's address on its first network
  std::string nonce;
};
std::string probe_request_to_json(const ProbeRequest& p);
stack::Result<ProbeRequest> probe_request_from_json(const std::string& text);

std::string signal_to_json(int signal, const std::string& nonce);
stack::Result<int> signal_from_json(const std::string& text);

}  // namespace stack::orch
