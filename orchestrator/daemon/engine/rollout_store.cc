#include "orchestrator/daemon/engine/rollout_store.h"

#include <nlohmann/json.hpp>

namespace stack::orch {

using nlohmann::json;

std::string rollout_key(const std::string& stack, const std::string& service) {
  return "rollouts/" + stack + "/" + service;
}

std::string rollout_to_json(const sched::Rollout& r) {
  return json{{"phase", sched::to_string(r.phase)},
              {"target", r.target},
              {"rollback", r.rollback},
              {"automatic", r.automatic},
              {"serial", r.serial},
              {"started_at", r.started_at},
              {"ended_at", r.ended_at},
              {"batch_no", r.batch_no},
              {"batch", r.batch},
              {"next_batch_at", r.next_batch_at},
              {"failed", r.failed},
              {"message", r.message},
              {"cause", r.cause}}
      .dump();
}

stack::Result<sched::Rollout> rollout_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("target")) return stack::fail("not a rollout record", EINVAL);
  sched::Rollout r;
  using P = sched::RolloutPhase;
  std::string phase = j.value("phase", "");
  bool known = false;
  for (P p : {P::Updating, P::Paused, P::RollbackWanted, P::Completed})
    if (phase == sched::to_string(p)) {
      r.phase = p;
      known = true;
    }
  if (!known) return stack::fail("rollout phase \"" + phase + "\" is unknown", EINVAL);
  try {
    r.target = j.at("target").get<std::string>();
    r.rollback = j.value("rollback", false);
    r.automatic = j.value("automatic", false);
    r.serial = j.value("serial", uint64_t{0});
    r.started_at = j.value("started_at", int64_t{0});
    r.ended_at = j.value("ended_at", int64_t{0});
    r.batch_no = j.value("batch_no", 0);
    r.batch = j.value("batch", std::vector<int>{});
    r.next_batch_at = j.value("next_batch_at", int64_t{0});
    r.failed = j.value("failed", std::vector<int>{});
    r.message = j.value("message", "");
    r.cause = j.value("cause", "");
  } catch (const json::exception& e) {
    return stack::fail(std::string("rollout record: ") + e.what(), EINVAL);
  }
  return r;
}

stack::Result<std::map<std::string, sched::Rollout>> load_rollouts(StateStore& store, const std::string& stack) {
  const std::string prefix = "rollouts/" + stack + "/";
  auto entries = store.list(prefix);
  if (!entries) return tl::unexpected(entries.error().wrap("load rollouts of " + stack));
  std::map<std::string, sched::Rollout> out;
  for (const auto& [key, value] : *entries) {
    auto r = rollout_from_json(value);
    if (!r) return tl::unexpected(r.error().wrap(key));
    out[key.substr(prefix.size())] = std::move(*r);
  }
  return out;
}

}  // namespace stack::orch
