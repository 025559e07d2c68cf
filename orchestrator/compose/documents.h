// How extends/include ask the loader for another file: read, interpolate,
// validate and canonicalize it, with its own include/extends resolved. The
// loader implements this (loader.cc); extends.cc and include.cc only call it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "orchestrator/compose/tree.h"

namespace stack::compose {

struct FileRequest {
  std::string path;                    // absolute
  std::string base_dir;                // where its relative paths resolve
  std::vector<std::string> env_files;  // include's env_file: extra interpolation sources
  Mark from;                           // the extends/include node, for messages
  std::string what;                    // "include" or "services.web.extends", for messages
};

// The loader reports a failure to load the file as "<from>: <what>: <error>"
// (the error keeps its own file:line), and a cycle of files once, where it
// closes: "<from>: include cycle: a.yaml -> b.yaml -> a.yaml". Callers pass
// the error on as it is.

using LoadFile = std::function<stack::Result<Node>(const FileRequest&)>;

// `rel` resolved against the directory relative paths in `m`'s file use.
std::string resolve_path(const Mark& m, const std::string& rel);

}  // namespace stack::compose
