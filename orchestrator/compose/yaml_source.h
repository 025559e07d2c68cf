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
stack::Result<Node> parse_yaml(const std::string& text, std::shared_ptr<const Source> source);

// Reads the file at source->path, then parse_yaml().
stack::Result<Node> read_yaml_file(std::shared_ptr<const Source> source);

}  // namespace stack::compose
