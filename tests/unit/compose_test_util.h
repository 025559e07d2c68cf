// Helpers shared by the compose_*_test.cc files.
#pragma once

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "orchestrator/compose/loader.h"
#include "tests/support/bundle.h"

namespace stack::compose::cz {

inline stack::Result<LoadResult> load_yaml(const std::string& yaml, LoadOptions o = {}) {
  if (o.working_dir.empty()) o.working_dir = "/tmp";
  return load_project_from_string(yaml, "stack.yaml", o);
}

// The error text of a load that must fail.
inline std::string load_error(const std::string& yaml, LoadOptions o = {}) {
  auto r = load_yaml(yaml, std::move(o));
  if (r) return "<loaded>";
  return r.error().message();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

inline bool has_warning(const LoadResult& r, const std::string& path) {
  for (auto& w : r.warnings)
    if (w.path == path) return true;
  return false;
}

}  // namespace stack::compose::cz
