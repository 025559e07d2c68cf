#include "orchestrator/daemon/engine/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "orchestrator/daemon/node/log_chunk.h"

namespace stack::orch {

std::optional<int64_t> parse_rfc3339_ns(const std::string& t) {
  struct tm tm {};
  int consumed = 0;
  if (sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
             &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t secs = timegm(&tm);
  size_t i = static_cast<size_t>(consumed);
  int64_t frac = 0;
  if (i < t.size() && t[i] == '.') {
    int digits = 0;
    for (i++; i < t.size() && isdigit(static_cast<unsigned char>(t[i])); i++)
      if (digits < 9) frac = frac * 10 + (t[i] - '0'), digits++;
    for (; digits < 9; digits++) frac *= 10;
  }
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    int hh = 0, mm = 0;
    if (sscanf(t.c_str() + i + 1, "%2d:%2d", &hh, &mm) == 2) secs -= (t[i] == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
  }
  return secs * 1000000000 + frac;
}

std::optional<LogLine> parse_log_line(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("log") || !j["log"].is_string()) return std::nullopt;
  LogLine l;
  l.text = j["log"].get<std::string>();
  if (!l.text.empty() && l.text.back() == '\n') l.text.pop_back();
  l.stream = j.value("stream", "stdout");
  auto t = parse_rfc3339_ns(j.value("time", ""));
  l.time_ns = t.value_or(0);
  return l;
}

std::vector<LogLine> LogCursor::read_new() {
  std::vector<LogLine> out;
  for (const auto& raw : read_complete_lines(path, offset))
    if (auto l = parse_log_line(raw)) out.push_back(std::move(*l));
  return out;
}

}  // namespace stack::orch
