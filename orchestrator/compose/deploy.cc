#include "orchestrator/compose/deploy.h"

#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/normalize.h"

namespace stack::compose {

namespace {

rt::Result<Resources> parse_resources(const Node& n, const std::string& path) {
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
          req.count = v;
        }
      }
      if (const Node* c = d.find("device_ids")) STACK_COMPOSE_ASSIGN(req.device_ids, read_string_list(*c, dp + ".device_ids"));
      if (const Node* c = d.find("options")) STACK_COMPOSE_ASSIGN(req.options, read_string_map(*c, dp + ".options"));
      r.devices.push_back(std::move(req));
    }
  return r;
}

}  // namespace

rt::Result<Deploy> parse_deploy(const Node& n, const std::string& path) {
  Deploy d;
  if (!n.is_map()) return d;
  if (const Node* m = n.find("mode")) {
    d.mode = m->scalar;
    if (d.mode != "replicated" && d.mode != "global")
      return fail_at(m->mark, path + ".mode", "\"" + d.mode + "\" is not replicated or global");
  }
  if (const Node* r = n.find("replicas")) {
    int64_t v = 0;
    STACK_COMPOSE_ASSIGN(v, read_int(*r, path + ".replicas"));
    if (v < 0) return fail_at(r->mark, path + ".replicas", "replicas must not be negative (got " + r->scalar + ")");
    d.replicas = static_cast<int>(v);
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
      if (p.condition != "none" && p.condition != "on-failure" && p.condition != "any")
        return fail_at(c->mark, rpp + ".condition", "\"" + p.condition + "\" is not none, on-failure or any");
    }
    if (const Node* c = rp->find("delay")) STACK_COMPOSE_ASSIGN(p.delay, read_duration(*c, rpp + ".delay"));
    if (const Node* c = rp->find("max_attempts")) STACK_TRY(store(p.max_attempts, read_int(*c, rpp + ".max_attempts")));
    if (const Node* c = rp->find("window")) STACK_TRY(store(p.window, read_duration(*c, rpp + ".window")));
    d.restart_policy = p;
  }
  if (const Node* uc = n.find("update_config"); uc && uc->is_map()) {
    UpdateConfig u;
    std::string up = path + ".update_config";
    if (const Node* c = uc->find("parallelism")) {
      int64_t v = 0;
      STACK_COMPOSE_ASSIGN(v, read_int(*c, up + ".parallelism"));
      u.parallelism = static_cast<int>(v);
    }
    if (const Node* c = uc->find("delay")) STACK_COMPOSE_ASSIGN(u.delay, read_duration(*c, up + ".delay"));
    if (const Node* c = uc->find("monitor")) STACK_COMPOSE_ASSIGN(u.monitor, read_duration(*c, up + ".monitor"));
    if (const Node* c = uc->find("failure_action")) u.failure_action = c->scalar;
    if (const Node* c = uc->find("order")) u.order = c->scalar;
    if (const Node* c = uc->find("max_failure_ratio"))
      STACK_TRY(store(u.max_failure_ratio, read_double(*c, up + ".max_failure_ratio")));
    d.update_config = u;
  }
  if (const Node* l = n.find("labels")) STACK_COMPOSE_ASSIGN(d.labels, read_string_map(*l, path + ".labels"));
  if (const Node* p = n.find("placement"); p && p->is_map())
    if (const Node* c = p->find("constraints"))
      STACK_COMPOSE_ASSIGN(d.placement_constraints, read_string_list(*c, path + ".placement.constraints"));
  return d;
}

}  // namespace stack::compose
