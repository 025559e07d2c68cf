#include "orchestrator/compose/units.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace stack::compose {

stack::Result<Millis> parse_duration(const std::string& text) {
  auto bad = [&](const std::string& why) { return stack::fail("invalid duration \"" + text + "\": " + why); };
  std::string s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return bad("empty");
  double total_ns = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return bad("expected a number at \"" + s.substr(start) + "\"");
    std::string num = s.substr(start, i - start);
    char* end = nullptr;
    double v = std::strtod(num.c_str(), &end);
    if (*end != '\0') return bad("bad number \"" + num + "\"");
    size_t u = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
    std::string unit = s.substr(u, i - u);
    double mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") mult = 1e3;
    else if (unit == "ms") mult = 1e6;
    else if (unit == "s") mult = 1e9;
    else if (unit == "m") mult = 60e9;
    else if (unit == "h") mult = 3600e9;
    else if (unit.empty()) return bad("missing unit (use e.g. 10s, 500ms, 1m30s)");
    else return bad("unknown unit \"" + unit + "\"");
    total_ns += v * mult;
  }
  if (total_ns > 9.2e18) return bad("too large");
  auto ms = static_cast<Millis>(total_ns / 1e6);
  return neg ? -ms : ms;
}

stack::Result<uint64_t> parse_size(const std::string& text) {
  auto bad = [&]() {
    return stack::fail("invalid size \"" + text + "\" (use bytes or a number with b, k, m, g, t or p, e.g. 512m)");
  };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return bad();
  char* end = nullptr;
  std::string num = text.substr(0, i);
  double v = std::strtod(num.c_str(), &end);
  if (*end != '\0') return bad();
  std::string unit = text.substr(i);
  if (!unit.empty() && unit[0] == ' ') unit = unit.substr(1);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // [kmgtp]?i?b?
  double mult = 1;
  size_t u = 0;
  if (u < unit.size()) {
    switch (unit[u]) {
      case 'k': mult = 1024.0; ++u; break;
      case 'm': mult = std::pow(1024.0, 2); ++u; break;
      case 'g': mult = std::pow(1024.0, 3); ++u; break;
      case 't': mult = std::pow(1024.0, 4); ++u; break;
      case 'p': mult = std::pow(1024.0, 5); ++u; break;
      default: break;
    }
  }
  if (u < unit.size() && unit[u] == 'i' && mult > 1) ++u;
  if (u < unit.size() && unit[u] == 'b') ++u;
  if (u != unit.size()) return bad();
  double bytes = v * mult;
  if (bytes >= 1.8e19) return bad();
  return static_cast<uint64_t>(bytes);
}

std::string format_duration(Millis ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  Millis h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  if (rest) out += std::to_string(rest) + "ms";
  return out;
}

}  // namespace stack::compose
