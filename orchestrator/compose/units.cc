#include "orchestrator/compose/units.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <regex>

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

stack::Result<int64_t> parse_time(const std::string& text, int64_t now_ms) {
  if (auto d = parse_duration(text); d && !text.empty() && text != "0") return now_ms - *d;
  static const std::regex unix_time(R"(^(\d+)(?:\.(\d{1,9}))?$)");
  static const std::regex date_time(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|[+-]\d{2}:\d{2})?$)");
  auto millis_of = [](const std::string& frac) {
    std::string f = (frac + "000").substr(0, 3);
    return std::stoll(f);
  };
  std::smatch m;
  if (std::regex_match(text, m, unix_time) && m[1].length() <= 12)
    return std::stoll(m[1]) * 1000 + (m[2].matched ? millis_of(m[2]) : 0);
  if (std::regex_match(text, m, date_time)) {
    tm t{};
    t.tm_year = std::stoi(m[1]) - 1900;
    t.tm_mon = std::stoi(m[2]) - 1;
    t.tm_mday = std::stoi(m[3]);
    t.tm_hour = m[4].matched ? std::stoi(m[4]) : 0;
    t.tm_min = m[5].matched ? std::stoi(m[5]) : 0;
    t.tm_sec = m[6].matched ? std::stoi(m[6]) : 0;
    const int year = t.tm_year + 1900;
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    // mktime/timegm would carry 2026-02-31 over into March: refused, as Docker does.
    if (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 ||
        t.tm_mday > kDays[t.tm_mon] + (t.tm_mon == 1 && leap) || t.tm_hour > 23 || t.tm_min > 59 || t.tm_sec > 60)
      return stack::fail("\"" + text + "\": not a valid date and time");
    const int64_t frac = m[7].matched ? millis_of(m[7]) : 0;
    int64_t seconds;
    if (!m[8].matched) {
      t.tm_isdst = -1;  // no zone: local time, as Docker reads it
      seconds = ::mktime(&t);
    } else {
      seconds = ::timegm(&t);
      const std::string zone = m[8];
      if (zone != "Z") {
        const int hours = std::stoi(zone.substr(1, 2)), minutes = std::stoi(zone.substr(4, 2));
        if (hours > 14 || minutes > 59) return stack::fail("\"" + text + "\": " + zone + " is not a time zone offset");
        const int64_t offset = hours * 3600 + minutes * 60;
        seconds += zone[0] == '+' ? -offset : offset;
      }
    }
    return seconds * 1000 + frac;
  }
  return stack::fail("\"" + text +
                     "\": not a duration (10m), a Unix time (1700000000) or a date and time (2026-12-07T02:00:00Z)");
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
