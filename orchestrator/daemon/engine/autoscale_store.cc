#include "orchestrator/daemon/engine/autoscale_store.h"

#include <nlohmann/json.hpp>

namespace stack::orch {

using nlohmann::json;

namespace {

json optional_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
std::optional<double> number_of(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

}  // namespace

std::string autoscale_key(const std::string& stack, const std::string& service) {
  return "autoscale/" + stack + "/" + service;
}

std::string autoscale_to_json(const AutoscaleRecord& r) {
  const auto& g = r.reading;
  return json{{"recommendations", r.state.recommendations},
              {"changes", r.state.changes},
              {"reading",
               {{"at", g.at},
                {"ready", g.ready},
                {"cpu", optional_number(g.cpu)},
                {"memory", optional_number(g.memory)},
                {"rps", optional_number(g.rps)},
                {"last_reason", g.last_reason},
                {"last_change_at", g.last_change_at}}}}
      .dump();
}

stack::Result<AutoscaleRecord> autoscale_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("recommendations")) return stack::fail("not an autoscale record", EINVAL);
  AutoscaleRecord r;
  try {
    r.state.recommendations = j.at("recommendations").get<std::vector<std::pair<sched::TimeMs, int>>>();
    r.state.changes = j.value("changes", std::vector<std::pair<sched::TimeMs, int>>{});
    const json g = j.value("reading", json::object());
    r.reading.at = g.value("at", int64_t{0});
    r.reading.ready = g.value("ready", 0);
    r.reading.cpu = number_of(g, "cpu");
    r.reading.memory = number_of(g, "memory");
    r.reading.rps = number_of(g, "rps");
    r.reading.last_reason = g.value("last_reason", "");
    r.reading.last_change_at = g.value("last_change_at", int64_t{0});
  } catch (const json::exception& e) {
    return stack::fail(std::string("autoscale record: ") + e.what(), EINVAL);
  }
  return r;
}

stack::Result<std::map<std::string, AutoscaleRecord>> load_autoscale(StateStore& store, const std::string& stack) {
  const std::string prefix = "autoscale/" + stack + "/";
  auto entries = store.list(prefix);
  if (!entries) return tl::unexpected(entries.error().wrap("load autoscaling of " + stack));
  std::map<std::string, AutoscaleRecord> out;
  for (const auto& [key, value] : *entries) {
    auto r = autoscale_from_json(value);
    if (!r) return tl::unexpected(r.error().wrap(key));
    out[key.substr(prefix.size())] = std::move(*r);
  }
  return out;
}

}  // namespace stack::orch
