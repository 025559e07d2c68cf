#include "orchestrator/compose/yaml_source.h"
#include "base/io.h"

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace stack::compose {

namespace {

// Aliases are expanded by copying; this caps the copies so a "billion laughs"
// file fails instead of eating the memory.
constexpr size_t kMaxNodes = 1'000'000;
// yaml-cpp lets an alias refer to the node that holds it ("x: &a {y: *a}"):
// the graph is cyclic and converting it recursed until the stack overflowed.
// Real stack files are a few levels deep; this bounds the recursion (and so
// the stack of every later pass over the tree) well inside the default stack.
constexpr size_t kMaxDepth = 256;

struct Converter {
  std::shared_ptr<const Source> source;
  size_t count = 0;

  Mark mark(const YAML::Mark& m) const { return Mark{source, m.line + 1, m.column + 1}; }

  stack::Result<Node> convert(const YAML::Node& y, size_t depth = 0) {
    if (++count > kMaxNodes) return fail_at(mark(y.Mark()), "", "yaml: document too large (alias expansion)");
    if (depth > kMaxDepth)
      return fail_at(mark(y.Mark()), "", "yaml: nested deeper than " + std::to_string(kMaxDepth) +
                                             " levels (or an alias inside its own anchor)");
    Node n;
    n.mark = mark(y.Mark());
    const std::string& tag = y.Tag();
    if (tag == "!reset" || tag == "!override") n.tag = tag;
    switch (y.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        n.kind = Node::Kind::Null;
        return n;
      case YAML::NodeType::Scalar:
        n.kind = Node::Kind::Scalar;
        n.scalar = y.Scalar();
        n.quoted = tag == "!";  // yaml-cpp tags non-plain scalars "!"
        return n;
      case YAML::NodeType::Sequence:
        n.kind = Node::Kind::Sequence;
        for (const auto& item : y) {
          auto c = convert(item, depth + 1);
          if (!c) return c;
          n.items.push_back(std::move(*c));
        }
        return n;
      case YAML::NodeType::Map: {
        n.kind = Node::Kind::Mapping;
        std::vector<Node> merges;
        for (auto it = y.begin(); it != y.end(); ++it) {
          if (!it->first.IsScalar())
            return fail_at(mark(it->first.Mark()), "", "yaml: mapping keys must be strings");
          std::string key = it->first.Scalar();
          auto v = convert(it->second, depth + 1);
          if (!v) return v;
          if (key == "<<" && it->first.Tag() != "!") {
            if (v->is_map()) {
              merges.push_back(std::move(*v));
            } else if (v->is_seq()) {
              for (auto& m : v->items) {
                if (!m.is_map()) return fail_at(m.mark, "<<", "yaml: merge key needs mappings");
                merges.push_back(std::move(m));
              }
            } else {
              return fail_at(v->mark, "<<", "yaml: merge key needs a mapping or a list of mappings");
            }
            continue;
          }
          if (n.find(key)) return fail_at(mark(it->first.Mark()), key, "yaml: duplicate key");
          n.entries.push_back(Entry{key, mark(it->first.Mark()), std::move(*v)});
        }
        for (auto& m : merges)
          for (auto& e : m.entries)
            if (!n.find(e.key)) n.entries.push_back(std::move(e));
        return n;
      }
    }
    return n;
  }
};

}  // namespace

stack::Result<Node> parse_yaml(const std::string& text, std::shared_ptr<const Source> source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return fail_at(Mark{source, e.mark.line + 1, e.mark.column + 1}, "", "yaml: " + e.msg);
  }
  Converter c{source};
  try {
    auto n = c.convert(root);
    if (n && n->is_null()) n->kind = Node::Kind::Mapping;  // an empty file is an empty mapping
    return n;
  } catch (const YAML::Exception& e) {
    return fail_at(Mark{source, e.mark.line + 1, e.mark.column + 1}, "", "yaml: " + e.msg);
  }
}

stack::Result<Node> read_yaml_file(std::shared_ptr<const Source> source) {
  auto text = io::read_file(source->path);
  if (!text) return tl::unexpected(text.error());
  return parse_yaml(*text, std::move(source));
}

}  // namespace stack::compose
