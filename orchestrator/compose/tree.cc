#include "orchestrator/compose/tree.h"

#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace stack::compose {

std::string Mark::where() const {
  std::string f = source ? source->display : std::string("<input>");
  if (line <= 0) return f;
  return f + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const Node* Node::find(const std::string& key) const {
  for (auto& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

Node* Node::find(const std::string& key) {
  for (auto& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

Node& Node::set(const std::string& key, Node value) {
  for (auto& e : entries)
    if (e.key == key) return e.value = std::move(value);
  Mark m = value.mark;
  entries.push_back(Entry{key, m, std::move(value)});
  return entries.back().value;
}

bool Node::erase(const std::string& key) {
  for (auto it = entries.begin(); it != entries.end(); ++it)
    if (it->key == key) {
      entries.erase(it);
      return true;
    }
  return false;
}

Node Node::make_scalar(std::string v, Mark m) {
  Node n;
  n.kind = Kind::Scalar;
  n.scalar = std::move(v);
  n.mark = std::move(m);
  return n;
}
Node Node::make_map(Mark m) {
  Node n;
  n.kind = Kind::Mapping;
  n.mark = std::move(m);
  return n;
}
Node Node::make_seq(Mark m) {
  Node n;
  n.kind = Kind::Sequence;
  n.mark = std::move(m);
  return n;
}

Mark locate(const Node& n, std::initializer_list<std::string> keys) {
  const Node* cur = &n;
  Mark m = n.mark;
  for (auto& k : keys) {
    const Node* next = nullptr;
    if (cur->is_map())
      for (auto& e : cur->entries)
        if (e.key == k) {
          next = &e.value;
          m = e.mark;
        }
    if (!next) break;
    cur = next;
  }
  return m;
}

const char* kind_name(Node::Kind k) {
  switch (k) {
    case Node::Kind::Null: return "null";
    case Node::Kind::Scalar: return "a string";
    case Node::Kind::Sequence: return "a sequence";
    case Node::Kind::Mapping: return "a mapping";
  }
  return "?";
}

std::optional<int64_t> scalar_int(const Node& n) {
  if (!n.is_scalar() || n.scalar.empty()) return std::nullopt;
  const std::string& s = n.scalar;
  int base = 10;
  size_t start = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  std::string digits = s.substr(start);
  if (digits.rfind("0x", 0) == 0) base = 16, digits = digits.substr(2);
  else if (digits.rfind("0o", 0) == 0) base = 8, digits = digits.substr(2);
  if (digits.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(digits.c_str(), &end, base);
  if (*end != '\0' || errno == ERANGE) return std::nullopt;
  return s[0] == '-' ? -v : v;
}

std::optional<double> scalar_number(const Node& n) {
  if (auto i = scalar_int(n)) return static_cast<double>(*i);
  if (!n.is_scalar() || n.scalar.empty()) return std::nullopt;
  const std::string& s = n.scalar;
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+'))
      return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<bool> scalar_bool(const Node& n) {
  if (!n.is_scalar()) return std::nullopt;
  const std::string& s = n.scalar;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

namespace {

nlohmann::json to_json_value(const Node& n) {
  switch (n.kind) {
    case Node::Kind::Null: return nullptr;
    case Node::Kind::Scalar:
      if (!n.quoted) {
        if (auto i = scalar_int(n)) return *i;
        if (auto d = scalar_number(n)) return *d;
        if (auto b = scalar_bool(n)) return *b;
      }
      return n.scalar;
    case Node::Kind::Sequence: {
      auto a = nlohmann::json::array();
      for (auto& i : n.items) a.push_back(to_json_value(i));
      return a;
    }
    case Node::Kind::Mapping: {
      auto o = nlohmann::json::object();
      for (auto& e : n.entries) o[e.key] = to_json_value(e.value);
      return o;
    }
  }
  return nullptr;
}

}  // namespace

std::string to_json_text(const Node& n) { return to_json_value(n).dump(); }

std::string canonical(const Node& n) {
  if (n.is_scalar()) return n.scalar;
  return to_json_text(n);
}

stack::Error error_at(const Mark& m, const std::string& path, const std::string& message) {
  std::string s = m.where() + ": ";
  if (!path.empty()) s += path + ": ";
  return stack::Error{0, s + message};
}

std::string item_path(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  return a + "." + b;
}

}  // namespace stack::compose
