// Secrets and configs: the top-level definitions (`file`, `environment`,
// `content`; `external` is refused when used: stack has no secret store of
// its own) and a service's references to them, as the read-only files a
// replica sees.
//
// Who does what:
// - The CLI's loader reads every definition a service uses into its `data`
//   (read_file_objects): the file is on the user's machine, the variable in
//   the user's environment, so the bytes travel with the project to stackd
//   and, in a cluster, to the node that runs the replica. Unused definitions
//   are not read (a missing file nobody mounts is no error).
// - stackd checks a project it receives (service_files on every service) and
//   cuts each replica's files from it (make_plan); config_hash covers the
//   bytes, so `up` after a source changed replaces the replicas using it.
// - The node writes them to a tmpfs of the replica's own and bind-mounts each
//   read-only at its target (daemon/node/node_local.cc).
//
// Targets and defaults are Docker's: a secret at /run/secrets/<source> (a
// relative target under /run/secrets), a config at /<source> (a relative
// target under /); uid and gid 0, mode 0444. Sizes are Swarm's limits: a
// secret at most 500 KiB, a config 1000 KiB, since both are kept in the
// state store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "orchestrator/compose/interpolation.h"
#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"
#include "base/error.h"

namespace stack::compose {

inline constexpr size_t kMaxSecretBytes = 500 * 1024;
inline constexpr size_t kMaxConfigBytes = 1000 * 1024;

struct ResolvedFile {
  bool secret = true;  // false: a config
  std::string name;    // the top-level key
  std::string target;  // absolute path inside the container
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0444;
  std::string data;
};

// Loader step (after normalize and checks): checks every reference, then,
// with `read_data`, fills `data` of each definition some service uses from
// its file, its variable (`env`) or its content. Errors name the file:line
// of the definition or the reference.
stack::Result<void> read_file_objects(Project& project, const Node& document, const Lookup& env, bool read_data);

// A service's secrets then configs as files; errors (an undefined name, a
// definition without data, an invalid target, uid or gid, two files at one
// target) name services.<svc>.secrets[i] / .configs[i].
stack::Result<std::vector<ResolvedFile>> service_files(const Project& project, const Service& service);

// The project without the bytes of its secrets and configs: what the API
// shows (`stack inspect`): data goes in, never out.
Project without_file_data(Project project);

}  // namespace stack::compose
