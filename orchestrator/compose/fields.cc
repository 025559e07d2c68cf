#include "orchestrator/compose/fields.h"

#include <cctype>

#include "orchestrator/compose/units.h"

namespace stack::compose {

stack::Result<std::string> read_string(const Node& n, const std::string& path) {
  if (n.is_null()) return std::string();
  if (!n.is_scalar()) return fail_at(n.mark, path, std::string("expected a string, got ") + kind_name(n.kind));
  return n.scalar;
}

stack::Result<std::string> read_mac(const Node& n, const std::string& path) {
  auto s = read_string(n, path);
  if (!s) return s;
  std::string mac = *s;
  bool ok = mac.size() == 17;
  for (size_t i = 0; ok && i < mac.size(); i++) {
    mac[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(mac[i])));
    ok = i % 3 == 2 ? mac[i] == ':' : std::isxdigit(static_cast<unsigned char>(mac[i])) != 0;
  }
  if (!ok) return fail_at(n.mark, path, "\"" + *s + "\" is not a MAC address (six hex pairs: 02:42:ac:11:00:02)");
  // The kernel refuses a multicast address for an interface (EADDRNOTAVAIL).
  if (std::stoi(mac.substr(0, 2), nullptr, 16) & 1)
    return fail_at(n.mark, path, "\"" + *s + "\" is a multicast address: the first byte must be even");
  if (mac == "00:00:00:00:00:00") return fail_at(n.mark, path, "the zero address cannot be an interface's");
  return mac;
}

stack::Result<int64_t> read_int(const Node& n, const std::string& path) {
  if (auto v = scalar_int(n)) return *v;
  return fail_at(n.mark, path, "expected an integer, got " + (n.is_scalar() ? "\"" + n.scalar + "\"" : kind_name(n.kind)));
}

stack::Result<double> read_double(const Node& n, const std::string& path) {
  if (auto v = scalar_number(n)) return *v;
  return fail_at(n.mark, path, "expected a number, got " + (n.is_scalar() ? "\"" + n.scalar + "\"" : kind_name(n.kind)));
}

stack::Result<bool> read_bool(const Node& n, const std::string& path) {
  if (auto v = scalar_bool(n)) return *v;
  return fail_at(n.mark, path, "expected true or false, got " + (n.is_scalar() ? "\"" + n.scalar + "\"" : kind_name(n.kind)));
}

stack::Result<Millis> read_duration(const Node& n, const std::string& path) {
  auto s = read_string(n, path);
  if (!s) return tl::unexpected(s.error());
  auto d = parse_duration(*s);
  if (!d) return fail_at(n.mark, path, d.error().context);
  return *d;
}

stack::Result<uint64_t> read_size(const Node& n, const std::string& path) {
  auto s = read_string(n, path);
  if (!s) return tl::unexpected(s.error());
  auto d = parse_size(*s);
  if (!d) return fail_at(n.mark, path, d.error().context);
  return *d;
}

stack::Result<uint64_t> read_bit_rate(const Node& n, const std::string& path) {
  auto s = read_string(n, path);
  if (!s) return tl::unexpected(s.error());
  const std::string& t = *s;
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  std::string unit = t.substr(digits);
  static const std::pair<const char*, uint64_t> kUnits[] = {
      {"", 1}, {"bit", 1}, {"kbit", 1000}, {"mbit", 1000000}, {"gbit", 1000000000}};
  uint64_t mult = 0;
  for (auto& [u, m] : kUnits)
    if (unit == u) mult = m;
  auto bad = [&](const std::string& why) { return fail_at(n.mark, path, "invalid rate \"" + t + "\": " + why); };
  if (digits == 0 || digits > 12 || mult == 0) return bad("expected a number with bit, kbit, mbit or gbit (\"10mbit\")");
  uint64_t bits = std::stoull(t.substr(0, digits)) * mult;
  if (bits < 8) return bad("below 8 bit/s");
  // The kernel's tbf rate (via libnl) is a 32-bit byte count per second.
  if (bits / 8 > 0x7fffffffu) return bad("above 17 gbit");
  return bits / 8;
}

stack::Result<std::vector<std::string>> read_string_list(const Node& n, const std::string& path) {
  std::vector<std::string> out;
  if (n.is_null()) return out;
  if (n.is_scalar()) return std::vector<std::string>{n.scalar};
  if (!n.is_seq()) return fail_at(n.mark, path, "expected a string or a list of strings");
  for (size_t i = 0; i < n.items.size(); ++i) {
    auto s = read_string(n.items[i], path + "[" + std::to_string(i) + "]");
    if (!s) return tl::unexpected(s.error());
    out.push_back(*s);
  }
  return out;
}

stack::Result<std::map<std::string, std::string>> read_string_map(const Node& n, const std::string& path) {
  std::map<std::string, std::string> out;
  if (n.is_null()) return out;
  if (!n.is_map()) return fail_at(n.mark, path, "expected a mapping");
  for (auto& e : n.entries) {
    auto s = read_string(e.value, join_path(path, e.key));
    if (!s) return tl::unexpected(s.error());
    out[e.key] = *s;
  }
  return out;
}

stack::Result<std::vector<std::string>> shell_split(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(cur), cur.clear(), in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\' && i + 1 < text.size()) {
      cur.push_back(text[++i]);
    } else if (c == '\'') {
      auto end = text.find('\'', i + 1);
      if (end == std::string::npos) return stack::fail("unterminated ' in \"" + text + "\"");
      cur += text.substr(i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() &&
            (text[j + 1] == '"' || text[j + 1] == '\\' || text[j + 1] == '$' || text[j + 1] == '`'))
          ++j;
        cur.push_back(text[j]);
      }
      if (j >= text.size()) return stack::fail("unterminated \" in \"" + text + "\"");
      i = j;
    } else {
      cur.push_back(c);
    }
  }
  if (in_word) out.push_back(cur);
  return out;
}

stack::Result<std::optional<std::vector<std::string>>> read_command(const Node& n, const std::string& path) {
  if (n.is_null()) return std::optional<std::vector<std::string>>();
  if (n.is_scalar()) {
    auto words = shell_split(n.scalar);
    if (!words) return fail_at(n.mark, path, words.error().context);
    return std::optional<std::vector<std::string>>(*words);
  }
  auto list = read_string_list(n, path);
  if (!list) return tl::unexpected(list.error());
  return std::optional<std::vector<std::string>>(*list);
}

}  // namespace stack::compose
