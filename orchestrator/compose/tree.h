// The loader's own document tree. yaml-cpp nodes are converted once (merge
// keys `<<` resolved, aliases expanded) into this plain value tree so that
// interpolation, validation, merging, extends and include can rewrite it
// freely while every node keeps where it came from (file, line, column) for
// error messages. Each node owns its children by value.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace stack::compose {

// The file a node was read from. `base_dir` is where relative paths in it
// resolve: the project directory for -f files, the file's own directory for
// extends/include files.
struct Source {
  std::string display;   // as shown in messages, e.g. "juice-shop.yaml"
  std::string path;      // absolute, "" for a string input
  std::string base_dir;  // absolute
};

struct Mark {
  std::shared_ptr<const Source> source;
  int line = 0;    // 1-based, 0 = unknown
  int column = 0;  // 1-based
  // "file:line:col" (or just "file" when the position is unknown).
  std::string where() const;
};

struct Entry;

struct Node {
  enum class Kind { Null, Scalar, Sequence, Mapping };
  Kind kind = Kind::Null;
  std::string scalar;
  bool quoted = false;  // a quoted scalar is always a string
  std::string tag;      // "!reset", "!override" or ""
  Mark mark;
  std::vector<Node> items;     // Sequence
  std::vector<Entry> entries;  // Mapping, in file order

  bool is_null() const { return kind == Kind::Null; }
  bool is_scalar() const { return kind == Kind::Scalar; }
  bool is_seq() const { return kind == Kind::Sequence; }
  bool is_map() const { return kind == Kind::Mapping; }

  const Node* find(const std::string& key) const;
  Node* find(const std::string& key);
  // Sets (replacing) or appends key.
  Node& set(const std::string& key, Node value);
  bool erase(const std::string& key);

  static Node make_scalar(std::string v, Mark m = {});
  static Node make_map(Mark m = {});
  static Node make_seq(Mark m = {});
};

struct Entry {
  std::string key;
  Mark mark;  // of the key
  Node value;
};

// The mark of the deepest key along `keys` from n that exists (n's own when
// the first is absent): where an error about a nested field points.
Mark locate(const Node& n, std::initializer_list<std::string> keys);

const char* kind_name(Node::Kind k);  // "null", "a string", "a sequence", "a mapping"

// YAML 1.2 core-schema reading of a plain scalar (quoted scalars are strings).
std::optional<int64_t> scalar_int(const Node& n);
std::optional<double> scalar_number(const Node& n);
std::optional<bool> scalar_bool(const Node& n);

// A canonical one-line text of a node (for de-duplication and x-* JSON).
std::string canonical(const Node& n);
// The node as JSON text (scalars typed as YAML would: numbers, booleans).
std::string to_json_text(const Node& n);

// "file:l:c: path: message" as an stack::Error.
stack::Error error_at(const Mark& m, const std::string& path, const std::string& message);
inline tl::unexpected<stack::Error> fail_at(const Mark& m, const std::string& path, const std::string& message) {
  return tl::unexpected<stack::Error>(error_at(m, path, message));
}

// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
std::string join_path(const std::string& a, const std::string& b);
// "a.b" and 2 -> "a.b[2]": the path of a sequence item in messages.
std::string item_path(const std::string& path, size_t i);

}  // namespace stack::compose
