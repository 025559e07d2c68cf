// Loading a stack: Compose files in, a validated normalized Project out.
//
// Steps, in Compose's order: read each file (yaml-cpp, anchors and merge
// keys), interpolate (${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e},
// ${VAR:+x}, ${VAR+x}, $$) from `environment` then the project's .env (or
// --env-file), validate each file against the Compose JSON schema (embedded
// copy, see schema.h), resolve include and extends, merge the files in order
// (!reset, !override), apply profiles, normalize (short/long forms, units,
// defaults), then check cross references (depends_on cycles and missing
// services, undefined networks/volumes, durations, sizes, ports).
//
// Errors are values naming "file:line:column: path.to.field: what is wrong"
// (line and column 1-based, from yaml-cpp marks). A load that fails returns
// no Project: callers change nothing.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "orchestrator/compose/model.h"
#include "base/error.h"

namespace stack::compose {

struct LoadOptions {
  std::vector<std::string> files;         // -f, in order; empty = default lookup in `working_dir`
  std::string working_dir;                // default: the current directory
  std::string project_name;               // -p; beats the file stem, loses to top-level name
  std::vector<std::string> profiles;      // --profile (plus COMPOSE_PROFILES from the env)
  std::vector<std::string> env_files;     // --env-file; default: <project dir>/.env if present
  std::map<std::string, std::string> environment;  // the caller's environment (the CLI's)
  // Read the bytes of the secrets and configs services use (file_objects.h;
  // references are checked either way). Off for verbs that do not send them
  // (config, down, stop, ps): a secret file deleted since `up` must not stop
  // `down`, and `docker compose config` does not read them either.
  bool read_file_data = true;
};

// A field that parses but that the engine does not implement yet, or another
// non-fatal remark. Printed by the CLI as "warning: file:line:col: path: text".
struct Warning {
  std::string file;
  int line = 0;
  int column = 0;
  std::string path;  // "services.web.blkio_config"
  std::string message;
  std::string to_string() const;
};

struct LoadResult {
  Project project;
  std::vector<Warning> warnings;
};

// Default file names tried in order when no -f is given (Compose's list).
const std::vector<std::string>& default_file_names();

stack::Result<LoadResult> load_project(const LoadOptions& options);

// From a string, for tests and `-f -`: `file_name` is used in messages and
// `working_dir` for relative paths.
stack::Result<LoadResult> load_project_from_string(const std::string& yaml, const std::string& file_name,
                                                const LoadOptions& options);

// `stack config`: the resolved model as YAML (Compose's normalized shape:
// long-form ports/volumes, durations as "10s", sizes in bytes) or JSON.
std::string to_yaml(const Project& project);
std::string to_json(const Project& project, int indent = 2);

// The inverse of to_json(): how stackd receives a project from the CLI (the
// CLI parses files with the user's environment and working directory; the
// daemon never reads YAML). Every field of model.h round-trips.
stack::Result<Project> project_from_json(const std::string& json);

}  // namespace stack::compose
