#include "orchestrator/compose/schema.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "orchestrator/compose/schema_text.h"

namespace stack::compose {

using nlohmann::json;

std::string SchemaError::to_string() const { return error_at(mark, path, message).context; }

// Optimal string alignment distance: Levenshtein plus adjacent
// transpositions ("prots" -> "ports" is 1), the usual typo.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string closest_name(const std::string& word, const std::vector<std::string>& candidates) {
  // Short words allow one edit, longer ones two (three from nine letters).
  size_t limit = word.size() <= 3 ? 1 : word.size() <= 8 ? 2 : 3;
  std::string best;
  size_t best_d = limit + 1;
  for (auto& c : candidates) {
    size_t dist = edit_distance(word, c);
    if (dist < best_d) best_d = dist, best = c;
  }
  return best;
}

namespace {

struct Issue {
  Mark mark;
  std::string path;
  std::string message;
  bool shallow = false;  // a type mismatch of the node itself (used to pick a oneOf branch)
};

const char* type_phrase(const std::string& t) {
  if (t == "string") return "a string";
  if (t == "integer") return "an integer";
  if (t == "number") return "a number";
  if (t == "boolean") return "a boolean";
  if (t == "null") return "null";
  if (t == "object") return "a mapping";
  if (t == "array") return "a list";
  return "?";
}

std::string describe(const Node& n) {
  switch (n.kind) {
    case Node::Kind::Null: return "null";
    case Node::Kind::Scalar: return "\"" + n.scalar + "\"";
    case Node::Kind::Sequence: return "a list";
    case Node::Kind::Mapping: return "a mapping";
  }
  return "?";
}

bool type_ok(const std::string& t, const Node& n) {
  if (t == "null") return n.is_null();
  if (t == "object") return n.is_map();
  if (t == "array") return n.is_seq();
  if (t == "string") return n.is_scalar();
  if (t == "boolean") return scalar_bool(n).has_value();
  if (t == "integer") return scalar_int(n).has_value();
  if (t == "number") return scalar_number(n).has_value();
  return true;
}

std::string join_types(const std::vector<std::string>& types) {
  std::string s;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i) s += i + 1 == types.size() ? " or " : ", ";
    s += type_phrase(types[i]);
  }
  return s;
}

class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  void check(const json& s, const Node& n, const std::string& path, std::vector<Issue>& out) {
    if (!s.is_object()) return;
    if (n.tag == "!reset") return;
    if (auto ref = s.find("$ref"); ref != s.end()) {
      const json* target = resolve(ref->get<std::string>());
      if (target) check(*target, n, path, out);
      return;
    }
    if (auto t = s.find("type"); t != s.end()) {
      std::vector<std::string> types;
      if (t->is_string()) types.push_back(t->get<std::string>());
      else
        for (auto& x : *t) types.push_back(x.get<std::string>());
      bool ok = std::any_of(types.begin(), types.end(), [&](auto& x) { return type_ok(x, n); });
      if (!ok) {
        out.push_back({n.mark, path, "expected " + join_types(types) + ", got " + describe(n), true});
        return;
      }
    }
    if (auto e = s.find("enum"); e != s.end() && n.is_scalar()) {
      bool ok = false;
      std::string list;
      for (auto& v : *e) {
        std::string txt = v.is_string() ? v.get<std::string>() : v.dump();
        if (txt == n.scalar) ok = true;
        list += (list.empty() ? "" : ", ") + txt;
      }
      if (!ok) out.push_back({n.mark, path, "\"" + n.scalar + "\" is not one of: " + list});
    }
    if (auto c = s.find("const"); c != s.end() && n.is_scalar()) {
      std::string txt = c->is_string() ? c->get<std::string>() : c->dump();
      if (txt != n.scalar) out.push_back({n.mark, path, "must be \"" + txt + "\""});
    }
    if (auto p = s.find("pattern"); p != s.end() && n.is_scalar()) {
      if (!std::regex_search(n.scalar, regex(p->get<std::string>())))
        out.push_back({n.mark, path, "\"" + n.scalar + "\" does not match " + p->get<std::string>()});
    }
    if (n.is_scalar()) {
      auto num = scalar_number(n);
      if (auto m = s.find("minimum"); m != s.end() && num && *num < m->get<double>())
        out.push_back({n.mark, path, n.scalar + " is less than the minimum " + m->dump()});
      if (auto m = s.find("maximum"); m != s.end() && num && *num > m->get<double>())
        out.push_back({n.mark, path, n.scalar + " is more than the maximum " + m->dump()});
    }
    if (n.is_map()) check_object(s, n, path, out);
    if (n.is_seq()) check_array(s, n, path, out);
    if (auto a = s.find("allOf"); a != s.end())
      for (auto& b : *a) check(b, n, path, out);
    for (const char* key : {"oneOf", "anyOf"})
      if (auto a = s.find(key); a != s.end()) check_alternatives(*a, n, path, out);
  }

 private:
  const json* resolve(const std::string& ref) {
    const std::string prefix = "#/definitions/";
    if (ref.rfind(prefix, 0) != 0) return nullptr;
    auto& defs = root_["definitions"];
    auto it = defs.find(ref.substr(prefix.size()));
    return it == defs.end() ? nullptr : &*it;
  }

  const std::regex& regex(const std::string& pattern) {
    auto it = regexes_.find(pattern);
    if (it == regexes_.end()) it = regexes_.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
    return it->second;
  }

  void check_object(const json& s, const Node& n, const std::string& path, std::vector<Issue>& out) {
    const json* props = s.contains("properties") ? &s["properties"] : nullptr;
    const json* patterns = s.contains("patternProperties") ? &s["patternProperties"] : nullptr;
    const json* additional = s.contains("additionalProperties") ? &s["additionalProperties"] : nullptr;
    for (auto& e : n.entries) {
      std::string p = join_path(path, e.key);
      bool matched = false;
      if (props && props->contains(e.key)) {
        matched = true;
        check((*props)[e.key], e.value, p, out);
      }
      if (patterns)
        for (auto& [pat, sub] : patterns->items())
          if (std::regex_search(e.key, regex(pat))) {
            matched = true;
            check(sub, e.value, p, out);
          }
      if (matched || !additional) continue;
      if (additional->is_boolean() && !additional->get<bool>()) {
        std::string msg = "additional property \"" + e.key + "\" is not allowed";
        if (props) {
          std::vector<std::string> names;
          for (auto& [k, v] : props->items()) names.push_back(k);
          if (auto best = closest_name(e.key, names); !best.empty()) msg += " (did you mean \"" + best + "\"?)";
        }
        out.push_back({e.mark, p, msg});
      } else if (additional->is_object()) {
        check(*additional, e.value, p, out);
      }
    }
    if (auto r = s.find("required"); r != s.end())
      for (auto& name : *r)
        if (!n.find(name.get<std::string>()))
          out.push_back({n.mark, path, "missing required property \"" + name.get<std::string>() + "\""});
  }

  void check_array(const json& s, const Node& n, const std::string& path, std::vector<Issue>& out) {
    if (auto it = s.find("items"); it != s.end() && it->is_object())
      for (size_t i = 0; i < n.items.size(); ++i) check(*it, n.items[i], item_path(path, i), out);
    if (auto m = s.find("minItems"); m != s.end() && n.items.size() < m->get<size_t>())
      out.push_back({n.mark, path, "needs at least " + m->dump() + " item(s)"});
    if (auto m = s.find("maxItems"); m != s.end() && n.items.size() > m->get<size_t>())
      out.push_back({n.mark, path, "allows at most " + m->dump() + " item(s)"});
    if (auto u = s.find("uniqueItems"); u != s.end() && u->get<bool>()) {
      std::set<std::string> seen;
      for (size_t i = 0; i < n.items.size(); ++i)
        if (!seen.insert(canonical(n.items[i])).second)
          out.push_back({n.items[i].mark, item_path(path, i), "duplicate entry " + describe(n.items[i])});
    }
  }

  // oneOf/anyOf: valid when a branch is. Otherwise report the branch that got
  // furthest (its failure is not a type mismatch of this node), or one line
  // listing the accepted types.
  void check_alternatives(const json& branches, const Node& n, const std::string& path, std::vector<Issue>& out) {
    std::vector<std::vector<Issue>> results;
    for (auto& b : branches) {
      std::vector<Issue> r;
      check(b, n, path, r);
      if (r.empty()) return;
      results.push_back(std::move(r));
    }
    for (auto& r : results) {
      bool shallow = std::any_of(r.begin(), r.end(), [&](auto& i) { return i.shallow && i.path == path; });
      if (!shallow) {
        out.insert(out.end(), r.begin(), r.end());
        return;
      }
    }
    std::vector<std::string> types;
    for (auto& b : branches) collect_types(b, types);
    out.push_back({n.mark, path, "expected " + join_types(types) + ", got " + describe(n), true});
  }

  void collect_types(const json& s, std::vector<std::string>& types) {
    if (auto ref = s.find("$ref"); ref != s.end()) {
      if (auto* t = resolve(ref->get<std::string>())) collect_types(*t, types);
      return;
    }
    auto add = [&](const std::string& t) {
      if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    };
    if (auto t = s.find("type"); t != s.end()) {
      if (t->is_string()) add(t->get<std::string>());
      else
        for (auto& x : *t) add(x.get<std::string>());
    }
    for (const char* key : {"oneOf", "anyOf"})
      if (auto a = s.find(key); a != s.end())
        for (auto& b : *a) collect_types(b, types);
  }

  const json& root_;
  std::map<std::string, std::regex> regexes_;
};

const json& schema() {
  static const json s = json::parse(kComposeSchemaText);
  return s;
}

}  // namespace

std::vector<SchemaError> validate_schema(const Node& root) {
  Validator v(schema());
  std::vector<Issue> issues;
  v.check(schema(), root, "", issues);
  std::vector<SchemaError> out;
  for (auto& i : issues) out.push_back({i.mark, i.path, i.message});
  return out;
}

}  // namespace stack::compose
