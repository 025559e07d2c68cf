// Reading a Compose file into the loader's tree (tree.h) with yaml-cpp:
// anchors and aliases expanded, merge keys (`<<: *base`, `<<: [*a, *b]`)
// applied as YAML 1.1 defines them (explicit keys win, earlier maps win),
// tags !reset / !override kept, positions kept for every node and key.
#pragma once

#include <memory>
#include <string>

#include "orchestrator/compose/tree.h"

namespace stack::compose {

// Parses `text`; errors read "file:line:col: yaml: ...".
rt::Result<Node> parse_yaml(const std::string& text, std::shared_ptr<const Source> source);

// Reads the file at source->path, then parse_yaml().
rt::Result<Node> read_yaml_file(std::shared_ptr<const Source> source);

// Reads a whole file into a string; the error names the path.
rt::Result<std::string> read_text_file(const std::string& path);

}  // namespace stack::compose
