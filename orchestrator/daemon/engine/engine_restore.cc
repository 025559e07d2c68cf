// Live restore (EngineImpl::restore): re-adopt every stack in the store
// after a daemon restart.
//
// Per replica with a container: LocalNode::reattach() tells whether its shim
// still holds it. Yes (daemon restart): the record is kept as it was
// (restart counts, health history) with the node's fresh facts, and the exit
// watch is re-armed (an exit that happened while we were away is reported at
// once). No (host reboot: runtime_root is a tmpfs): what is left on disk is
// removed and the slot becomes Pending, so reconcile recreates it in
// dependency order; a slot the user had stopped stays stopped.
// Then the network plane is swept with the KeepSet of everything still
// wanted, networks/DNS/ports re-made, and supervision resumes. A stack whose
// goal was down (a crash in the middle of `down`) is finished off.
// NetworkManager::sweep() is host-wide (every "stack:"-tagged link and nft
// rule not in the KeepSet goes), which is right for the one stackd of a
// host but removes the objects of any other manager (a parallel test with
// its own state dir) at the same moment.
#include <nlohmann/json.hpp>

#include "orchestrator/compose/loader.h"
#include "orchestrator/daemon/engine/engine_impl.h"
#include "orchestrator/daemon/engine/rollout_store.h"
#include "orchestrator/daemon/engine/stack_spec.h"

namespace stack::orch {

namespace {

sched::StackGoal goal_of(const std::string& g) {
  if (g == "stopped") return sched::StackGoal::Stopped;
  if (g == "down") return sched::StackGoal::Down;
  return sched::StackGoal::Up;
}

struct Restored {
  compose::Project project;
  sched::StackGoal goal;
  std::vector<ReplicaRecord> replicas;
  std::map<std::string, std::string> previous;     // service -> its definition before its last change
  std::map<std::string, sched::Rollout> rollouts;  // rolling updates, to go on with
};

}  // namespace

stack::Result<void> EngineImpl::restore() {
  auto entries = store_.list("stacks/");
  if (!entries) return tl::unexpected(entries.error().wrap("restore"));
  std::vector<Restored> all;
  std::set<std::string> known_ids;
  net::KeepSet keep;
  for (const auto& [key, value] : *entries) {
    auto j = nlohmann::json::parse(value, nullptr, false);
    if (!j.is_object() || !j.contains("project"))
      return stack::fail("restore: " + key + ": not a stack record");
    auto project = compose::project_from_json(j["project"].dump());
    if (!project) return tl::unexpected(project.error().wrap("restore: " + key));
    Restored r{std::move(*project), goal_of(j.value("goal", "up")), {}};
    if (j.contains("previous") && j["previous"].is_object())
      for (const auto& [service, def] : j["previous"].items())
        if (def.is_string()) r.previous[service] = def.get<std::string>();
    auto rollouts = load_rollouts(store_, r.project.name);
    if (!rollouts) return tl::unexpected(rollouts.error());
    r.rollouts = std::move(*rollouts);
    auto records = load_replicas(store_, r.project.name);
    if (!records) return tl::unexpected(records.error());
    for (auto& rec : *records) {
      std::string id = rec.status.container_id;
      if (!id.empty()) {
        LocalNode* node = node_of(rec);  // nullptr: its node left the cluster, and the container with it
        auto facts = node ? node->reattach(id) : stack::Result<std::optional<ReplicaRuntime>>(std::nullopt);
        if (facts && *facts) {
          rec.pid = (*facts)->pid;
          rec.shim_pid = (*facts)->shim_pid;
          rec.netns_path = (*facts)->netns_path;
          if (rec.addresses.empty()) rec.addresses = (*facts)->addresses;
          known_ids.insert(id);
          for (const auto& [net, _] : rec.addresses) keep.endpoints.insert({id, net});
        } else {
          if (node) (void)node->remove({id});  // leftovers of a container whose shim is gone
          rec.status.container_id.clear();
          rec.pid = 0;
          rec.addresses.clear();
          rec.status.health = {};
          rec.status.state =
              rec.status.stopped_by_user ? sched::ReplicaState::Exited : sched::ReplicaState::Pending;
        }
        (void)save_replica(store_, rec);
      }
      // Made by a stackd before config hash v2 (stack_spec.h) from the
      // service as it still is: it keeps running instead of being replaced.
      if (auto svc = r.project.services.find(rec.status.service); svc != r.project.services.end()) {
        std::string hash = upgraded_config_hash(rec.status.config_hash, svc->second);
        if (hash != rec.status.config_hash) {
          rec.status.config_hash = hash;
          (void)save_replica(store_, rec);
        }
      }
      r.replicas.push_back(std::move(rec));
    }
    for (const auto& [k, def] : r.project.networks) keep.networks.insert(network_name(r.project, k));
    // sweep() re-makes kept mappings with the backends given here: the
    // adopted replicas that are in the pool now. A port without one stays
    // reserved with no rule until sync() gives it backends.
    for (auto& p : published_ports(r.project)) {
      for (const auto& rec : r.replicas) {
        bool in_pool = rec.status.state == sched::ReplicaState::Running && !rec.status.container_id.empty() &&
                       (rec.status.health.health == sched::Health::None ||
                        rec.status.health.health == sched::Health::Healthy);
        auto a = rec.addresses.find(p.mapping.network);
        if (rec.status.service == p.service && in_pool && a != rec.addresses.end())
          p.mapping.backends.push_back({a->second, p.port.target});
      }
      keep.mappings.push_back(p.mapping);  // empty: a reservation (network_manager.h)
    }
    all.push_back(std::move(r));
  }
  // Containers on disk that no stack knows: a crash between create and save.
  // (In a cluster each node's assignment runner does this for its own.)
  if (self_.empty())
    for (const auto& id : node_->list_ids())
      if (!known_ids.count(id)) (void)node_->remove({id});
  if (auto s = networks_->sweep(keep); !s) {
    emit("", "error", {{"reason", "sweep: " + s.error().message()}});
  } else {
    for (const auto& u : s->unserved_mappings) emit("", "error", {{"reason", "published port not served: " + u}});
  }

  for (auto& r : all) {
    std::string name = r.project.name;
    auto spec = stack_spec(r.project, image_healthchecks(r.project));
    auto nets = spec ? wiring_->ensure_networks(r.project, nullptr)
                     : stack::Result<std::map<std::string, net::NetworkInfo>>(tl::unexpected(spec.error()));
    if (nets) {
      if (auto p = wiring_->publish(r.project); !p) nets = tl::unexpected(p.error());
    }
    if (!nets) {
      emit(name, "error", {{"reason", "restore: " + nets.error().message()}});
      continue;  // the other stacks still come back
    }
    StackDesired desired{r.project, *spec, r.goal, *nets, std::move(r.previous)};
    auto sup = std::make_shared<Supervisor>(context(), std::move(desired), std::move(r.replicas), std::move(r.rollouts));
    {
      std::lock_guard lk(mu_);
      stacks_[name] = sup;
    }
    sup->start();
    emit(name, "restore");
    if (r.goal == sched::StackGoal::Down) {
      auto op = op_lock(name);
      std::lock_guard g(*op);
      (void)teardown(name, false);
    }
  }
  return {};
}

}  // namespace stack::orch
