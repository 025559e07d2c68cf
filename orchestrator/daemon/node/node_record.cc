#include "orchestrator/daemon/node/node_record.h"

#include <time.h>

#include <cstdio>

#include <nlohmann/json.hpp>

namespace stack::orch {

using nlohmann::json;

std::string NodeRecord::to_json() const {
  return json{{"id", id},
              {"name", name},
              {"image", image},
              {"netns_path", netns_path},
              {"networks", networks},
              {"addresses", addresses},
              {"started_at_ms", started_at_ms}}
      .dump();
}

stack::Result<NodeRecord> NodeRecord::parse(const std::string& text, const std::string& origin) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return stack::fail(origin + ": not a JSON object", EINVAL);
  NodeRecord r;
  try {
    r.id = j.value("id", "");
    r.name = j.value("name", "");
    r.image = j.value("image", "");
    r.netns_path = j.value("netns_path", "");
    r.networks = j.value("networks", std::vector<std::string>{});
    r.addresses = j.value("addresses", std::map<std::string, std::string>{});
    r.started_at_ms = j.value("started_at_ms", int64_t{0});
  } catch (const json::exception& e) {
    return stack::fail(origin + ": " + e.what(), EINVAL);
  }
  return r;
}

int64_t rfc3339_to_ms(const std::string& text) {
  struct tm tm {};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t ms = static_cast<int64_t>(::timegm(&tm)) * 1000;
  size_t i = static_cast<size_t>(consumed);
  if (i < text.size() && text[i] == '.') {
    int64_t frac = 0, scale = 100;
    for (i++; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); i++, scale /= 10)
      frac += scale > 0 ? (text[i] - '0') * scale : 0;
    ms += frac;
  }
  int sign = 0, oh = 0, om = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-') &&
      std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2)
    sign = text[i] == '+' ? 1 : -1;
  return ms - sign * (oh * 3600 + om * 60) * int64_t{1000};
}

stack::Result<ExitInfo> parse_exit_record(const std::string& text, const std::string& origin) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("exit_code"))
    return stack::fail(origin + ": not an exit record", EINVAL);
  ExitInfo e;
  try {
    e.exit_code = j.at("exit_code").get<int>();
    e.oom_killed = j.value("oom_killed", false);
    e.finished_at_ms = rfc3339_to_ms(j.value("finished_at", ""));
  } catch (const json::exception& ex) {
    return stack::fail(origin + ": " + ex.what(), EINVAL);
  }
  return e;
}

}  // namespace stack::orch
