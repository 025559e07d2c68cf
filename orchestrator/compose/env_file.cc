#include "orchestrator/compose/env_file.h"
#include "base/io.h"

#include <cctype>
#include <map>

#include "orchestrator/compose/yaml_source.h"

namespace stack::compose {

namespace {

bool key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

stack::Result<EnvList> parse_env_text(const std::string& text, const std::string& name, const Lookup& lookup) {
  EnvList out;
  std::map<std::string, std::string> seen;
  Lookup scoped = [&](const std::string& k) -> std::optional<std::string> {
    if (auto it = seen.find(k); it != seen.end()) return it->second;
    return lookup ? lookup(k) : std::nullopt;
  };
  auto where = [&](int line) { return name + ":" + std::to_string(line) + ": "; };
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    size_t line_start = pos;
    ++line_no;
    int start_line = line_no;
    pos = eol + 1;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0 || t.rfind("export\t", 0) == 0) t = trim(t.substr(7));
    size_t k = 0;
    while (k < t.size() && key_char(t[k])) ++k;
    std::string key = t.substr(0, k);
    std::string rest = trim(t.substr(k));
    if (key.empty())
      return stack::fail(where(start_line) + "unexpected character \"" + std::string(1, t[0]) + "\" in variable name");
    if (rest.empty()) {  // bare KEY: inherit
      if (auto v = lookup ? lookup(key) : std::nullopt) {
        out.emplace_back(key, *v);
        seen[key] = *v;
      }
      continue;
    }
    if (rest[0] != '=')
      return stack::fail(where(start_line) + "unexpected character \"" + std::string(1, rest[0]) +
                      "\" in variable name \"" + key + "\"");
    // The value starts after '=' in the raw text so quoted values can span lines.
    // Keys and "export" hold no '=', so the line's first '=' separates.
    size_t v = text.find('=', line_start) + 1;
    while (v < text.size() && (text[v] == ' ' || text[v] == '\t')) ++v;
    std::string value;
    if (v < text.size() && (text[v] == '\'' || text[v] == '"')) {
      char q = text[v];
      size_t i = v + 1;
      std::string raw;
      bool closed = false;
      for (; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\n') ++line_no;
        if (q == '"' && c == '\\' && i + 1 < text.size()) {
          char n = text[++i];
          switch (n) {
            case 'n': raw += '\n'; break;
            case 't': raw += '\t'; break;
            case 'r': raw += '\r'; break;
            case '$': raw += "$$"; break;  // kept literal through interpolation
            default: raw += n;
          }
          continue;
        }
        if (c == q) {
          closed = true;
          break;
        }
        raw.push_back(c);
      }
      if (!closed) return stack::fail(where(start_line) + "unterminated quoted value for \"" + key + "\"");
      if (q == '"') {
        auto r = interpolate(raw, scoped);
        if (!r) return stack::fail(where(start_line) + r.error().context);
        value = *r;
      } else {
        value = raw;
      }
      size_t nl = text.find('\n', i);
      std::string tail = trim(text.substr(i + 1, (nl == std::string::npos ? text.size() : nl) - i - 1));
      if (!tail.empty() && tail[0] != '#')
        return stack::fail(where(line_no) + "unexpected text after the quoted value of \"" + key + "\"");
      pos = nl == std::string::npos ? text.size() : nl + 1;
    } else {
      std::string raw = trim(rest.substr(1));
      for (size_t i = 0; i < raw.size(); ++i)
        if (raw[i] == '#' && i > 0 && (raw[i - 1] == ' ' || raw[i - 1] == '\t')) {
          raw = trim(raw.substr(0, i));
          break;
        }
      auto r = interpolate(raw, scoped);
      if (!r) return stack::fail(where(start_line) + r.error().context);
      value = *r;
    }
    out.emplace_back(key, value);
    seen[key] = value;
  }
  return out;
}

stack::Result<EnvList> read_env_file(const std::string& path, const std::string& display, const Lookup& lookup) {
  auto text = io::read_file(path);
  if (!text) return tl::unexpected(text.error());
  return parse_env_text(*text, display, lookup);
}

}  // namespace stack::compose
