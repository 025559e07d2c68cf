#include "orchestrator/daemon/engine/replica_store.h"

#include <nlohmann/json.hpp>

#include "scheduler/reconcile.h"

namespace stack::orch {
namespace {

using nlohmann::json;

json probe_to_json(const sched::ProbeResult& p) {
  return json{{"start", p.start}, {"end", p.end}, {"exit_code", p.exit_code}, {"output", p.output}};
}

sched::ProbeResult probe_from_json(const json& j) {
  sched::ProbeResult p;
  p.start = j.value("start", int64_t{0});
  p.end = j.value("end", int64_t{0});
  p.exit_code = j.value("exit_code", 0);
  p.output = j.value("output", "");
  return p;
}

sched::ReplicaState state_from(const std::string& s) {
  using S = sched::ReplicaState;
  for (S v : {S::Pending, S::Created, S::Running, S::Stopping, S::Exited, S::Removed})
    if (s == sched::to_string(v)) return v;
  return S::Pending;
}

sched::Health health_from(const std::string& s) {
  using H = sched::Health;
  for (H v : {H::None, H::Starting, H::Healthy, H::Unhealthy})
    if (s == sched::to_string(v)) return v;
  return H::None;
}

}  // namespace

std::string replica_key(const std::string& stack, const sched::ReplicaStatus& task) {
  return "replicas/" + stack + "/" + task.service + "/" + std::to_string(task.slot) + "/" +
         std::to_string(task.incarnation);
}

std::string replica_to_json(const ReplicaRecord& r) {
  const sched::ReplicaStatus& s = r.status;
  json log = json::array();
  for (const auto& p : s.health.log) log.push_back(probe_to_json(p));
  json j{{"stack", s.stack},
         {"service", s.service},
         {"slot", s.slot},
         {"incarnation", s.incarnation},
         {"container_id", s.container_id},
         {"node", s.node},
         {"config_hash", s.config_hash},
         {"state", sched::to_string(s.state)},
         {"health", {{"status", sched::to_string(s.health.health)},
                     {"failing_streak", s.health.failing_streak},
                     {"log", log},
                     {"next_probe_at", s.health.next_probe_at},
                     {"first_scheduled_at", s.health.first_scheduled_at},
                     {"readiness_probes", s.health.readiness_probes}}},
         {"exit_code", s.exit_code},
         {"oom_killed", s.oom_killed},
         {"created_at", s.created_at},
         {"started_at", s.started_at},
         {"finished_at", s.finished_at},
         {"stop_requested_at", s.stop_requested_at},
         {"restart_count", s.restart_count},
         {"restart_streak", s.restart_streak},
         {"restart_times", s.restart_times},
         {"stopped_by_user", s.stopped_by_user},
         {"start_requested", s.start_requested},
         {"name", r.name},
         {"image", r.image},
         {"command", r.command},
         {"pid", r.pid},
         {"shim_pid", r.shim_pid},
         {"netns_path", r.netns_path},
         {"addresses", r.addresses}};
  return j.dump();
}

stack::Result<ReplicaRecord> replica_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return stack::fail("replica record: not a JSON object");
  try {
    ReplicaRecord r;
    sched::ReplicaStatus& s = r.status;
    s.stack = j.at("stack").get<std::string>();
    s.service = j.at("service").get<std::string>();
    s.slot = j.at("slot").get<int>();
    s.incarnation = j.value("incarnation", 1);  // records from before tasks: the first
    s.container_id = j.value("container_id", "");
    s.node = j.value("node", "local");
    s.config_hash = j.value("config_hash", "");
    s.state = state_from(j.value("state", "pending"));
    if (j.contains("health")) {
      const json& h = j["health"];
      s.health.health = health_from(h.value("status", "none"));
      s.health.failing_streak = h.value("failing_streak", 0);
      for (const auto& p : h.value("log", json::array())) s.health.log.push_back(probe_from_json(p));
      s.health.next_probe_at = h.value("next_probe_at", int64_t{0});
      s.health.first_scheduled_at = h.value("first_scheduled_at", int64_t{0});
      s.health.readiness_probes = h.value("readiness_probes", 0);
    }
    s.exit_code = j.value("exit_code", 0);
    s.oom_killed = j.value("oom_killed", false);
    s.created_at = j.value("created_at", int64_t{0});
    s.started_at = j.value("started_at", int64_t{0});
    s.finished_at = j.value("finished_at", int64_t{0});
    s.stop_requested_at = j.value("stop_requested_at", int64_t{0});
    s.restart_count = j.value("restart_count", 0);
    s.restart_streak = j.value("restart_streak", 0);
    s.restart_times = j.value("restart_times", std::vector<int64_t>{});
    s.stopped_by_user = j.value("stopped_by_user", false);
    s.start_requested = j.value("start_requested", false);
    r.name = j.value("name", "");
    r.image = j.value("image", "");
    r.command = j.value("command", std::vector<std::string>{});
    r.pid = j.value("pid", 0);
    r.shim_pid = j.value("shim_pid", 0);
    r.netns_path = j.value("netns_path", "");
    r.addresses = j.value("addresses", std::map<std::string, std::string>{});
    return r;
  } catch (const std::exception& e) {
    return stack::fail(std::string("replica record: ") + e.what());
  }
}

stack::Result<void> save_replica(StateStore& store, const ReplicaRecord& r) {
  return store.put(replica_key(r.status.stack, r.status), replica_to_json(r));
}

stack::Result<void> delete_replica(StateStore& store, const std::string& stack, const sched::ReplicaStatus& task) {
  return store.remove(replica_key(stack, task));
}

stack::Result<std::vector<ReplicaRecord>> load_replicas(StateStore& store, const std::string& stack) {
  auto all = store.list("replicas/" + stack + "/");
  if (!all) return tl::unexpected(all.error().wrap("load replicas of " + stack));
  std::vector<ReplicaRecord> out;
  for (const auto& [key, value] : *all) {
    auto r = replica_from_json(value);
    if (!r) return tl::unexpected(r.error().wrap(key));
    // A stackd from before tasks kept one record per slot,
    // replicas/<stack>/<service>/<slot>: it becomes the slot's first task.
    if (std::string want = replica_key(stack, r->status); key != want) {
      STACK_TRY_CTX(store.put(want, value), "migrate " + key);
      STACK_TRY_CTX(store.remove(key), "migrate " + key);
    }
    out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace stack::orch
