#include "orchestrator/compose/healthcheck.h"

#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/normalize.h"
#include "orchestrator/compose/ports.h"

namespace stack::compose {

namespace {

// The timing fields shared by healthcheck and x-healthcheck.
template <class T>
stack::Result<void> read_timing(const Node& n, const std::string& path, T& out) {
  if (const Node* v = n.find("interval")) STACK_COMPOSE_ASSIGN(out.interval, read_duration(*v, path + ".interval"));
  if (const Node* v = n.find("timeout")) STACK_COMPOSE_ASSIGN(out.timeout, read_duration(*v, path + ".timeout"));
  if (const Node* v = n.find("start_period"))
    STACK_COMPOSE_ASSIGN(out.start_period, read_duration(*v, path + ".start_period"));
  if (const Node* v = n.find("start_interval"))
    STACK_COMPOSE_ASSIGN(out.start_interval, read_duration(*v, path + ".start_interval"));
  if (const Node* v = n.find("retries")) {
    int64_t r = 0;
    STACK_COMPOSE_ASSIGN(r, read_int(*v, path + ".retries"));
    if (r < 0) return fail_at(v->mark, path + ".retries", "must not be negative");
    out.retries = static_cast<int>(r);
  }
  for (auto [field, value] : {std::pair{"interval", out.interval}, std::pair{"timeout", out.timeout}})
    if (value <= 0 && n.find(field)) return fail_at(n.find(field)->mark, path + "." + field, "must be positive");
  return {};
}

}  // namespace

stack::Result<Healthcheck> parse_healthcheck(const Node& n, const std::string& path) {
  Healthcheck h;
  if (!n.is_map()) return fail_at(n.mark, path, "expected a mapping");
  if (const Node* t = n.find("test")) {
    if (t->is_scalar()) {
      h.test = {"CMD-SHELL", t->scalar};
    } else {
      STACK_COMPOSE_ASSIGN(h.test, read_string_list(*t, path + ".test"));
      if (!h.test.empty() && h.test[0] != "CMD" && h.test[0] != "CMD-SHELL" && h.test[0] != "NONE")
        return fail_at(t->mark, path + ".test", "the list form must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"");
    }
    if (!h.test.empty() && h.test[0] == "NONE") h.disable = true;
  }
  if (const Node* d = n.find("disable")) {
    bool dis = false;
    STACK_COMPOSE_ASSIGN(dis, read_bool(*d, path + ".disable"));
    h.disable = h.disable || dis;
  }
  auto r = read_timing(n, path, h);
  if (!r) return tl::unexpected(r.error());
  return h;
}

stack::Result<NativeProbe> parse_native_probe(const Node& n, const std::string& path) {
  NativeProbe p;
  if (!n.is_map()) return fail_at(n.mark, path, "expected a mapping with http or tcp");
  const Node* http = n.find("http");
  const Node* tcp = n.find("tcp");
  if ((http != nullptr) == (tcp != nullptr)) return fail_at(n.mark, path, "needs exactly one of http or tcp");
  const Node* probe = http ? http : tcp;
  std::string ppath = path + (http ? ".http" : ".tcp");
  p.kind = http ? "http" : "tcp";
  if (!probe->is_map()) return fail_at(probe->mark, ppath, "expected a mapping with port");
  for (auto& e : n.entries)
    if (e.key != "http" && e.key != "tcp" && e.key != "interval" && e.key != "timeout" && e.key != "retries" &&
        e.key != "start_period" && e.key != "start_interval")
      return fail_at(e.mark, join_path(path, e.key), "unknown field \"" + e.key + "\" in x-healthcheck");
  for (auto& e : probe->entries)
    if (e.key != "port" && !(http && (e.key == "path" || e.key == "status")))
      return fail_at(e.mark, join_path(ppath, e.key), "unknown field \"" + e.key + "\"");
  const Node* port = probe->find("port");
  if (!port) return fail_at(probe->mark, ppath + ".port", "port is required");
  auto range = parse_port_range(port->scalar);
  if (!range || range->first != range->second)
    return fail_at(port->mark, ppath + ".port", "invalid port \"" + port->scalar + "\": expected 1-65535");
  p.port = range->first;
  if (const Node* pa = probe->find("path")) {
    p.path = pa->scalar;
    if (p.path.empty() || p.path[0] != '/') return fail_at(pa->mark, ppath + ".path", "must start with /");
  }
  if (const Node* st = probe->find("status")) {
    auto dash = st->scalar.find('-');
    auto lo = scalar_int(Node::make_scalar(st->scalar.substr(0, dash)));
    auto hi = dash == std::string::npos ? lo : scalar_int(Node::make_scalar(st->scalar.substr(dash + 1)));
    if (!lo || !hi || *lo < 100 || *hi > 599 || *hi < *lo)
      return fail_at(st->mark, ppath + ".status", "invalid status \"" + st->scalar + "\" (e.g. 200 or 200-399)");
    p.expect_status_min = static_cast<int>(*lo);
    p.expect_status_max = static_cast<int>(*hi);
  }
  auto r = read_timing(n, path, p);
  if (!r) return tl::unexpected(r.error());
  return p;
}

}  // namespace stack::compose
