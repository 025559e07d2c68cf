// Container lifecycle over the runtime core, the verbs every caller uses:
// stack-runtime (runc-compatible CLI), stack-shim and later stackd. Each verb
// is a plain function over the state directory; nothing is kept in memory
// between verbs, so separate processes can drive one container.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/oci/spec.h"
#include "runtime/container/state.h"
#include "base/error.h"
#include "runtime/kernel/signals.h"  // parse_signal, for the verbs' callers

namespace stack::rt {

struct CreateOptions {
  std::string id;
  std::string bundle;          // directory holding config.json
  std::string pid_file;        // written once the container waits for start
  std::string console_socket;  // path: runc's --console-socket
  int console_fd = -1;         // or an already connected socket (run -t)
  int preserve_fds = 0;
  int stdio[3] = {-1, -1, -1};  // the container's stdin/stdout/stderr; -1 = inherit ours
  bool no_pivot = false;
  bool wait_for_start = true;  // false: exec right away (`run`)
  const Spec* spec = nullptr;  // use this instead of <bundle>/config.json...
  std::string config_text;     // ...and, if the caller has it, the text it was parsed from
                               // (saved as is; otherwise the spec is serialised again)
};

struct CreateResult {
  pid_t pid = 0;
  std::vector<std::string> warnings;
};

// create: namespaces, cgroup, rootfs and security set up; the process waits
// on exec.fifo for `start`. Any failure rolls everything back: no state dir,
// cgroup or process is left.
Result<CreateResult> create_container(const StateDir& dir, const CreateOptions& options);
// start: lets the init exec the user's program and returns once it has
// (exec.fifo is closed on exec), then runs the poststart hooks. Their
// failures come back as warnings: the container runs.
Result<std::vector<std::string>> start_container(const StateDir& dir, const std::string& id);
// `all`: every process in the container's cgroup, not only its init.
Result<> kill_container(const StateDir& dir, const std::string& id, int signal, bool all = false);
// Removes the cgroup and state. A running container needs `force` (SIGKILL);
// a created one is killed without it, as runc does (containerd's shim
// deletes a created task without --force). Poststop hook failures come back
// as warnings: the container is gone either way.
Result<std::vector<std::string>> delete_container(const StateDir& dir, const std::string& id, bool force);
Result<nlohmann::json> container_state(const StateDir& dir, const std::string& id);
Result<std::vector<pid_t>> container_pids(const StateDir& dir, const std::string& id);

}  // namespace stack::rt
