#include "orchestrator/compose/autoscale.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/normalize.h"
#include "orchestrator/compose/units.h"

namespace stack::compose {
namespace {

// "70%" or 70: a percentage in (0, 1000].
stack::Result<double> read_percent(const Node& n, const std::string& path) {
  if (!n.is_scalar()) return fail_at(n.mark, path, "expected a percentage such as 70%");
  std::string text = n.scalar;
  if (!text.empty() && text.back() == '%') text.pop_back();
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v <= 0 || v > 1000)
    return fail_at(n.mark, path, "\"" + n.scalar + "\" is not a percentage above 0 and up to 1000 (such as 70%)");
  return v;
}

stack::Result<ScaleStep> read_step(const Node& n, const std::string& path, ScaleStep step) {
  if (!n.is_map()) return fail_at(n.mark, path, "expected a mapping with stabilization, max_step, period");
  for (const auto& e : n.entries)
    if (e.key != "stabilization" && e.key != "max_step" && e.key != "period")
      return fail_at(e.mark, join_path(path, e.key), "unknown field \"" + e.key + "\" (stabilization, max_step, period)");
  if (const Node* v = n.find("stabilization")) {
    STACK_COMPOSE_ASSIGN(step.stabilization, read_duration(*v, path + ".stabilization"));
    if (step.stabilization < 0) return fail_at(v->mark, path + ".stabilization", "must not be negative");
  }
  if (const Node* v = n.find("max_step")) {
    int64_t m = 0;
    STACK_COMPOSE_ASSIGN(m, read_int(*v, path + ".max_step"));
    if (m < 1 || m > 10000) return fail_at(v->mark, path + ".max_step", "must be 1..10000 (got " + v->scalar + ")");
    step.max_step = static_cast<int>(m);
  }
  if (const Node* v = n.find("period")) {
    STACK_COMPOSE_ASSIGN(step.period, read_duration(*v, path + ".period"));
    if (step.period <= 0) return fail_at(v->mark, path + ".period", "must be positive");
  }
  return step;
}

std::string percent(double v) {
  std::string s = nlohmann::json(v).dump();
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s + "%";
}

}  // namespace

stack::Result<Autoscale> parse_autoscale(const Node& n, const std::string& path) {
  Autoscale a;
  if (!n.is_map()) return fail_at(n.mark, path, "expected a mapping with min, max and a target (cpu, memory, requests_per_second)");
  for (const auto& e : n.entries)
    if (e.key != "min" && e.key != "max" && e.key != "cpu" && e.key != "memory" && e.key != "requests_per_second" &&
        e.key != "scale_up" && e.key != "scale_down")
      return fail_at(e.mark, join_path(path, e.key),
                     "unknown field \"" + e.key +
                         "\" (min, max, cpu, memory, requests_per_second, scale_up, scale_down)");
  const Node* max = n.find("max");
  if (!max) return fail_at(n.mark, path + ".max", "max is required");
  int64_t v = 0;
  if (const Node* min = n.find("min")) {
    STACK_COMPOSE_ASSIGN(v, read_int(*min, path + ".min"));
    if (v < 1 || v > 10000) return fail_at(min->mark, path + ".min", "must be 1..10000 (got " + min->scalar + ")");
    a.min = static_cast<int>(v);
  }
  STACK_COMPOSE_ASSIGN(v, read_int(*max, path + ".max"));
  if (v < 1 || v > 10000) return fail_at(max->mark, path + ".max", "must be 1..10000 (got " + max->scalar + ")");
  a.max = static_cast<int>(v);
  if (a.max < a.min)
    return fail_at(max->mark, path + ".max",
                   "must not be below min (" + std::to_string(a.max) + " < " + std::to_string(a.min) + ")");
  if (const Node* c = n.find("cpu")) STACK_TRY(store(a.cpu, read_percent(*c, path + ".cpu")));
  if (const Node* m = n.find("memory")) STACK_TRY(store(a.memory, read_percent(*m, path + ".memory")));
  if (const Node* r = n.find("requests_per_second")) {
    double rps = 0;
    STACK_COMPOSE_ASSIGN(rps, read_double(*r, path + ".requests_per_second"));
    if (!(rps > 0)) return fail_at(r->mark, path + ".requests_per_second", "must be above 0 (got " + r->scalar + ")");
    a.requests_per_second = rps;
  }
  if (!a.cpu && !a.memory && !a.requests_per_second)
    return fail_at(n.mark, path, "needs a target: cpu, memory or requests_per_second");
  if (const Node* s = n.find("scale_up")) STACK_COMPOSE_ASSIGN(a.scale_up, read_step(*s, path + ".scale_up", a.scale_up));
  if (const Node* s = n.find("scale_down"))
    STACK_COMPOSE_ASSIGN(a.scale_down, read_step(*s, path + ".scale_down", a.scale_down));
  return a;
}

std::string autoscale_json(const Autoscale& a) {
  auto step = [](const ScaleStep& s) {
    return nlohmann::json{{"stabilization", format_duration(s.stabilization)},
                          {"max_step", s.max_step},
                          {"period", format_duration(s.period)}};
  };
  nlohmann::json j{{"min", a.min}, {"max", a.max}, {"scale_up", step(a.scale_up)}, {"scale_down", step(a.scale_down)}};
  if (a.cpu) j["cpu"] = percent(*a.cpu);
  if (a.memory) j["memory"] = percent(*a.memory);
  if (a.requests_per_second) j["requests_per_second"] = *a.requests_per_second;
  return j.dump();
}

}  // namespace stack::compose
