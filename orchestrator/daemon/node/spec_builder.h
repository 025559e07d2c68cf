// The container spec of one replica: its ReplicaSpec plus the image's
// config plus where the node put things (rootfs, /etc files, netns), turned
// into an OCI rt::Spec with Docker's rules. Pure: it reads no file and makes
// no syscall; what it needs from the host (the image's /etc/passwd, a device
// node's numbers, a seccomp profile file) comes in through SpecContext.
//
// Docker's rules kept here:
// - args: a service entrypoint replaces the image ENTRYPOINT and drops the
//   image CMD (unless the service has a command); a service command replaces
//   CMD. Nothing left to run is an error.
// - env: PATH (default), HOSTNAME, the image's ENV, then the service's
//   environment (service wins on equal keys); HOME from passwd when unset.
// - user: "name|uid[:group|gid]" resolved against the image's /etc/passwd and
//   /etc/group (a name must exist there, a number need not); supplementary
//   groups from /etc/group.
// - cwd: service working_dir, else the image's WorkingDir, else "/"
//   (the node creates it in the rootfs, as Docker does).
// - no_new_privileges is false unless security_opt asks (Docker's default;
//   the runtime's own default spec sets it true).
// - init: true runs the command under stack-init (runtime/init/), bind-mounted
//   read-only at kInitPath, as Docker runs docker-init.
// - tty: true sets process.terminal (the shim holds the pty master) and
//   TERM=xterm unless the service sets TERM.
// Not implemented (a warning is returned, the spec still builds):
// security_opt label/apparmor. Memory swap is left unset (Docker sets 2x).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/daemon/node/local_node.h"
#include "runtime/oci/spec.h"
#include "runtime/image/manifest.h"
#include "base/error.h"

namespace stack::orch {

// Annotation keys the node writes (read back by reattach and the engine).
inline constexpr const char* kAnnotationStopSignal = "com.stack.stop-signal";
inline constexpr const char* kAnnotationName = "com.stack.name";
// Where a service with init: true finds its init inside the container.
inline constexpr const char* kInitPath = "/sbin/stack-init";

struct SpecContext {
  std::string rootfs;         // absolute path of the mounted rootfs
  std::string etc_dir;        // holds hosts, resolv.conf, hostname (bind-mounted)
  std::string files_dir;      // plan.files, one file per entry by index ("" = none)
  std::string init_path;      // the host's stack-init ("" = not found: init: true fails)
  std::string netns_path;     // join this netns; "" = a new empty one (network_mode none)
  bool host_network = false;  // network_mode host: no network (and no uts) namespace
  // pid / ipc "container:<id>": the namespace to join ("pid" -> /proc/N/ns/pid).
  std::map<std::string, std::string> joins;
  std::string passwd, group;  // the image's /etc/passwd and /etc/group ("" = none)
  // Host device -> its node (type, major, minor); used for `devices:`.
  std::function<stack::Result<rt::Device>(const std::string& host_path)> stat_device;
  // Reads a host file (security_opt seccomp=PATH).
  std::function<stack::Result<std::string>(const std::string& path)> read_file;
};

struct BuiltSpec {
  rt::Spec spec;
  std::vector<std::string> warnings;
  std::vector<std::string> bind_dirs_to_create;  // missing bind sources with create_host_path
  // Volumes the node fills from the image when they are empty (Docker's
  // copy-up; runtime/image/volume_copy.h): host dir -> path in the image.
  std::vector<std::pair<std::string, std::string>> volume_copies;
};

stack::Result<BuiltSpec> build_spec(const ReplicaPlan& plan, const img::ImageConfig& image,
                                 const SpecContext& context);

// Pure helpers, exposed for the node (exec --user) and the unit tests.
struct ResolvedUser {
  rt::User user;
  std::string home;  // "" when the passwd has no entry
};
// "" = root (uid 0, gid 0). Errors name the user or group not found.
stack::Result<ResolvedUser> resolve_user(const std::string& user, const std::string& passwd,
                                      const std::string& group);
// Entrypoint + command as Docker resolves them.
std::vector<std::string> resolve_args(const ReplicaSpec& service, const img::ImageConfig& image);
// KEY=VALUE lists merged: later entries replace earlier ones with the same key,
// keeping the first one's position.
std::vector<std::string> merge_env(const std::vector<std::string>& base, const std::vector<std::string>& over);

}  // namespace stack::orch
