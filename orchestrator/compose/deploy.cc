#include "orchestrator/compose/deploy.h"

#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/normalize.h"
#include "orchestrator/compose/task_spec.h"

namespace stack::compose {

namespace {

stack::Result<Resources> parse_resources(const Node& n, const std::string& path) {
  Resources r;
  if (!n.is_map()) return r;
  if (const Node* c = n.find("cpus")) {
    double v = 0;
    STACK_COMPOSE_ASSIGN(v, read_double(*c, path + ".cpus"));
    if (v < 0) return fail_at(c->mark, path + ".cpus", "must not be negative");
    r.cpus = v;
  }
  if (const Node* m = n.find("memory")) STACK_TRY(store(r.memory, read_size(*m, path + ".memory")));
  if (const Node* p = n.find("pids")) STACK_TRY(store(r.pids, read_int(*p, path + ".pids")));
  if (const Node* ds = n.find("devices"); ds && ds->is_seq())
    for (size_t i = 0; i < ds->items.size(); ++i) {
      const Node& d = ds->items[i];
      std::string dp = path + ".devices[" + std::to_string(i) + "]";
      DeviceRequest req;
      if (const Node* c = d.find("capabilities")) STACK_COMPOSE_ASSIGN(req.capabilities, read_string_list(*c, dp + ".capabilities"));
      if (const Node* c = d.find("driver")) req.driver = c->scalar;
      if (const Node* c = d.find("count")) {
        if (c->scalar == "all") {
          req.count = -1;
        } else {
          int64_t v = 0;
          STACK_COMPOSE_ASSIGN(v, read_int(*c, dp + ".count"));
          if (v < -1)
            return fail_at(c->mark, dp + ".count", "must be a number of devices, or all (got " + c->scalar + ")");
          req.count = v;
        }
      }
      if (const Node* c = d.find("device_ids")) STACK_COMPOSE_ASSIGN(req.device_ids, read_string_list(*c, dp + ".device_ids"));
      if (const Node* c = d.find("options")) STACK_COMPOSE_ASSIGN(req.options, read_string_map(*c, dp + ".options"));
      r.devices.push_back(std::move(req));
    }
  return r;
}

// update_config and rollback_config: the same fields, the same checks.
stack::Result<UpdateConfig> parse_update(const Node& uc, const std::string& up) {
  UpdateConfig u;
  if (const Node* c = uc.find("parallelism")) {
    int64_t v = 0;
    STACK_COMPOSE_ASSIGN(v, read_int(*c, up + ".parallelism"));
    if (v < 0) return fail_at(c->mark, up + ".parallelism", "must not be negative (got " + c->scalar + ")");
    u.parallelism = static_cast<int>(v);
  }
  if (const Node* c = uc.find("delay")) STACK_COMPOSE_ASSIGN(u.delay, read_duration(*c, up + ".delay"));
  if (const Node* c = uc.find("monitor")) STACK_TRY(store(u.monitor, read_duration(*c, up + ".monitor")));
  if (const Node* c = uc.find("failure_action")) {
    STACK_COMPOSE_ASSIGN(u.failure_action, read_string(*c, up + ".failure_action"));
    if (auto a = parse_failure_action(u.failure_action); !a)
      return fail_at(c->mark, up + ".failure_action", a.error().context);
  }
  if (const Node* c = uc.find("order")) {
    STACK_COMPOSE_ASSIGN(u.order, read_string(*c, up + ".order"));
    if (auto o = parse_update_order(u.order); !o) return fail_at(c->mark, up + ".order", o.error().context);
  }
  if (const Node* c = uc.find("max_failure_ratio")) {
    STACK_TRY(store(u.max_failure_ratio, read_double(*c, up + ".max_failure_ratio")));
    if (*u.max_failure_ratio < 0 || *u.max_failure_ratio > 1)
      return fail_at(c->mark, up + ".max_failure_ratio", "must be between 0 and 1 (got " + c->scalar + ")");
  }
  return u;
}

}  // namespace

stack::Result<Deploy> parse_deploy(const Node& n, const std::string& path, std::optional<int>& replicas) {
  Deploy d;
  if (!n.is_map()) return d;
  if (const Node* m = n.find("mode")) {
    d.mode = m->scalar;
    if (d.mode != "replicated" && d.mode != "global" && d.mode != "replicated-job" && d.mode != "global-job")
      return fail_at(m->mark, path + ".mode",
                     "\"" + d.mode + "\" is not replicated, global, replicated-job or global-job");
  }
  if (const Node* r = n.find("replicas")) {
    int64_t v = 0;
    STACK_COMPOSE_ASSIGN(v, read_int(*r, path + ".replicas"));
    if (v < 0) return fail_at(r->mark, path + ".replicas", "replicas must not be negative (got " + r->scalar + ")");
    replicas = static_cast<int>(v);
  }
  if (const Node* res = n.find("resources"); res && res->is_map()) {
    if (const Node* l = res->find("limits")) STACK_COMPOSE_ASSIGN(d.limits, parse_resources(*l, path + ".resources.limits"));
    if (const Node* l = res->find("reservations"))
      STACK_COMPOSE_ASSIGN(d.reservations, parse_resources(*l, path + ".resources.reservations"));
  }
  if (const Node* rp = n.find("restart_policy"); rp && rp->is_map()) {
    RestartPolicy p;
    std::string rpp = path + ".restart_policy";
    if (const Node* c = rp->find("condition")) {
      p.condition = c->scalar;
      if (auto m = parse_restart_condition(p.condition); !m)
        return fail_at(c->mark, rpp + ".condition", m.error().context);
    }
    if (const Node* c = rp->find("delay")) STACK_COMPOSE_ASSIGN(p.delay, read_duration(*c, rpp + ".delay"));
    if (const Node* c = rp->find("max_attempts")) STACK_TRY(store(p.max_attempts, read_int(*c, rpp + ".max_attempts")));
    if (const Node* c = rp->find("window")) STACK_TRY(store(p.window, read_duration(*c, rpp + ".window")));
    d.restart_policy = p;
  }
  if (const Node* uc = n.find("update_config"); uc && uc->is_map()) {
    UpdateConfig u;
    STACK_COMPOSE_ASSIGN(u, parse_update(*uc, path + ".update_config"));
    d.update_config = u;
  }
  if (const Node* rc = n.find("rollback_config"); rc && rc->is_map()) {
    UpdateConfig u;
    STACK_COMPOSE_ASSIGN(u, parse_update(*rc, path + ".rollback_config"));
    d.rollback_config = u;
  }
  if (const Node* l = n.find("labels")) STACK_COMPOSE_ASSIGN(d.labels, read_string_map(*l, path + ".labels"));
  if (const Node* p = n.find("placement"); p && p->is_map()) {
    const std::string pp = path + ".placement";
    if (const Node* c = p->find("constraints"))
      STACK_COMPOSE_ASSIGN(d.placement_constraints, read_string_list(*c, pp + ".constraints"));
    if (const Node* c = p->find("max_replicas_per_node")) {
      STACK_TRY(store(d.max_replicas_per_node, read_int(*c, pp + ".max_replicas_per_node")));
      if (*d.max_replicas_per_node < 0)
        return fail_at(c->mark, pp + ".max_replicas_per_node", "must be 0 (no limit) or more (got " + c->scalar + ")");
    }
    if (const Node* prefs = p->find("preferences"); prefs && prefs->is_seq()) {
      for (size_t i = 0; i < prefs->items.size(); i++) {
        const Node& item = prefs->items[i];
        const std::string ip = pp + ".preferences[" + std::to_string(i) + "]";
        const Node* spread = item.is_map() ? item.find("spread") : nullptr;
        if (!spread) return fail_at(item.mark, ip, "a preference is {spread: node.labels.KEY}");
        std::string value;
        STACK_COMPOSE_ASSIGN(value, read_string(*spread, ip + ".spread"));
        if (value.rfind("node.labels.", 0) != 0 || value.size() <= 12)
          return fail_at(spread->mark, ip + ".spread", "\"" + value + "\" is not node.labels.KEY");
        d.placement_spread.push_back(value.substr(12));
      }
    }
  }
  return d;
}

stack::Result<void> check_mode(const Node& n, const std::string& base, Service& s) {
  const std::string& mode = s.deploy.mode;
  const Node* deploy = n.find("deploy");
  if (mode == "global" || mode == "global-job") {
    const Node* count = deploy ? deploy->find("replicas") : nullptr;
    std::string field = base + ".deploy.replicas";
    if (!count && (count = n.find("scale"))) field = base + ".scale";
    if (count)
      return fail_at(count->mark, field,
                     "replicas can only be used with mode replicated or replicated-job (deploy.mode is " + mode + ")");
  }
  if (mode != "replicated-job" && mode != "global-job") return {};
  const Node* restart = n.find("restart");
  const Node* policy = deploy ? deploy->find("restart_policy") : nullptr;
  const Node* condition = policy ? policy->find("condition") : nullptr;
  if (condition && condition->scalar == "any")
    return fail_at(condition->mark, base + ".deploy.restart_policy.condition",
                   "a job (deploy.mode " + mode + ") cannot restart on any exit: use on-failure or none");
  if (s.deploy.restart_policy && !condition) s.deploy.restart_policy->condition = "on-failure";
  if (restart && !policy && (s.restart == "always" || s.restart == "unless-stopped"))
    return fail_at(restart->mark, base + ".restart",
                   "a job (deploy.mode " + mode + ") cannot restart " + s.restart + ": use on-failure or no");
  if (!restart && !policy) s.restart = "on-failure";
  return {};
}

}  // namespace stack::compose
