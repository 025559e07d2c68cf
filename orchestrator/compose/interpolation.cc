#include "orchestrator/compose/interpolation.h"

#include <cctype>

namespace stack::compose {

namespace {

bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Index of the '}' closing the "${" that starts at `open`, honouring nested
// "${...}"; npos when unterminated.
size_t closing_brace(const std::string& s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '$') {
      ++i;
      continue;
    }
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      ++depth;
      ++i;
      continue;
    }
    if (s[i] == '}' && --depth == 0) return i;
  }
  return std::string::npos;
}

stack::Result<std::string> braced(const std::string& body, const std::string& whole, const Lookup& lookup,
                               std::vector<std::string>* unset) {
  size_t i = 0;
  while (i < body.size() && name_char(body[i])) ++i;
  std::string name = body.substr(0, i);
  if (name.empty() || !name_start(name[0])) return stack::fail("invalid interpolation format for \"" + whole + "\"");
  std::string op, arg;
  if (i < body.size()) {
    if (body[i] == ':' && i + 1 < body.size() && (body[i + 1] == '-' || body[i + 1] == '?' || body[i + 1] == '+')) {
      op = body.substr(i, 2);
      arg = body.substr(i + 2);
    } else if (body[i] == '-' || body[i] == '?' || body[i] == '+') {
      op = body.substr(i, 1);
      arg = body.substr(i + 1);
    } else {
      return stack::fail("invalid interpolation format for \"" + whole + "\"");
    }
  }
  auto value = lookup(name);
  bool set = value.has_value();
  bool nonempty = set && !value->empty();
  if (op.empty()) {
    if (!set && unset) unset->push_back(name);
    return value.value_or("");
  }
  bool use_arg = false;
  if (op == ":-") use_arg = !nonempty;
  else if (op == "-") use_arg = !set;
  else if (op == ":+") use_arg = nonempty;
  else if (op == "+") use_arg = set;
  else if (op == ":?" || op == "?") {
    bool missing = op == ":?" ? !nonempty : !set;
    if (missing) {
      auto msg = interpolate(arg, lookup, unset);
      if (!msg) return msg;
      return stack::fail("required variable " + name + " is missing a value" + (msg->empty() ? "" : ": " + *msg));
    }
    return *value;
  }
  if (use_arg) return interpolate(arg, lookup, unset);
  if (op == ":+" || op == "+") return std::string();
  return *value;
}

}  // namespace

stack::Result<std::string> interpolate(const std::string& text, const Lookup& lookup, std::vector<std::string>* unset) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '$' || i + 1 == text.size()) {
      out.push_back(c);
      continue;
    }
    char n = text[i + 1];
    if (n == '$') {
      out.push_back('$');
      ++i;
    } else if (n == '{') {
      size_t close = closing_brace(text, i);
      if (close == std::string::npos)
        return stack::fail("invalid interpolation format for \"" + text + "\": unterminated ${");
      auto v = braced(text.substr(i + 2, close - i - 2), text.substr(i, close - i + 1), lookup, unset);
      if (!v) return v;
      out += *v;
      i = close;
    } else if (name_start(n)) {
      size_t j = i + 1;
      while (j < text.size() && name_char(text[j])) ++j;
      std::string name = text.substr(i + 1, j - i - 1);
      auto v = lookup(name);
      if (!v && unset) unset->push_back(name);
      out += v.value_or("");
      i = j - 1;
    } else {
      out.push_back(c);  // a lone "$" followed by something else stays literal
    }
  }
  return out;
}

namespace {

stack::Result<void> walk(Node& n, const std::string& path, const Lookup& lookup, std::vector<UnsetVariable>* unset) {
  switch (n.kind) {
    case Node::Kind::Null: return {};
    case Node::Kind::Scalar: {
      if (n.scalar.find('$') == std::string::npos) return {};
      std::vector<std::string> names;
      auto v = interpolate(n.scalar, lookup, &names);
      if (!v) return fail_at(n.mark, path, v.error().context);
      n.scalar = std::move(*v);
      if (unset)
        for (auto& name : names) unset->push_back(UnsetVariable{name, n.mark, path});
      return {};
    }
    case Node::Kind::Sequence:
      for (size_t i = 0; i < n.items.size(); ++i) {
        auto r = walk(n.items[i], path + "[" + std::to_string(i) + "]", lookup, unset);
        if (!r) return r;
      }
      return {};
    case Node::Kind::Mapping:
      for (auto& e : n.entries) {
        auto r = walk(e.value, join_path(path, e.key), lookup, unset);
        if (!r) return r;
      }
      return {};
  }
  return {};
}

}  // namespace

stack::Result<void> interpolate_tree(Node& root, const Lookup& lookup, std::vector<UnsetVariable>* unset) {
  return walk(root, "", lookup, unset);
}

}  // namespace stack::compose
