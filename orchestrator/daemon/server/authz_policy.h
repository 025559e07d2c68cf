// The authorization policy for stackd's non-root callers (members of
// `stackd --group`). Membership of that group used to equal root: a member
// could start a privileged container or bind the host's `/`. The policy says
// which of the dangerous features a non-root caller may use; root is never
// checked (api_server.cc only asks for peers with uid != 0).
//
// Rules (each one key of the policy file, authz_policy_file.h):
//   privileged        services.X.privileged: true
//   host_namespaces   network_mode: host (and pid/ipc/uts/userns_mode/cgroup:
//                     host, checked on the raw request in authz_request.cc)
//   cap_add           capabilities beyond Docker's default set
//   devices           host device nodes (services.X.devices)
//   bind_mounts       host directories bind sources may come from
//   unconfined        security_opt seccomp=unconfined or a host profile
//                     file, apparmor=unconfined, label=disable,
//                     systempaths=unconfined
//   privileged_ports  published host ports below 1024
//   sysctls           sysctls outside the per-container namespaced set
// and one rule no file can relax:
//   names             service, volume, network and container names must be
//                     plain names: they become paths on the host (volume
//                     dirs, container dirs, netns files), so "../.." in one
//                     would escape the daemon's directories.
//
// The default policy (no file) denies every rule: the safe default.
//
// Evaluation is pure: the only view of the host is the PathResolver passed
// in (the daemon's resolves symlinks with realpath; tests pass a fake).
// A refusal is a value (Denial), never an exception.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "orchestrator/compose/model.h"
#include "base/error.h"

namespace stack::orch {

struct AuthzPolicy {
  std::string source;      // the policy file's path (named in refusals)
  bool from_file = false;  // false: the built-in default, `source` did not exist

  bool privileged = false;
  bool host_namespaces = false;
  bool cap_add_any = false;           // true: any capability, "ALL" included
  std::set<std::string> cap_add;      // else these ("CAP_NET_ADMIN" form)
  bool devices_any = false;           // true: any host device
  std::vector<std::string> devices;   // else these host paths (resolved)
  std::vector<std::string> bind_dirs; // normalized, resolved; "/" = anywhere
  bool unconfined = false;
  bool privileged_ports = false;
  bool sysctls = false;               // non-namespaced sysctls
};

// One refusal. `rule` is the policy key that refused ("" when the request
// could not be checked at all: those fail closed whatever the policy says);
// `field` is where in the request ("services.web.privileged").
struct Denial {
  std::string rule;
  std::string field;
  std::string reason;
};

using AuthzResult = tl::expected<void, Denial>;

// "authorization: services.web.privileged: privileged containers are not
// allowed for non-root callers (rule "privileged" in /var/lib/stack/authz.json)"
std::string denial_message(const AuthzPolicy& policy, const Denial& denial);

// Maps an absolute, normalized host path to the path the kernel would reach
// (symlinks resolved). A path whose tail does not exist yet resolves its
// existing head and keeps the tail (the daemon creates missing bind sources).
using PathResolver = std::function<stack::Result<std::string>(const std::string& path)>;

// Checks one service of `project` (relative bind sources resolve against
// project.working_dir, as spec_builder.cc does).
AuthzResult check_service(const AuthzPolicy& policy, const compose::Project& project, const std::string& service,
                          const PathResolver& resolve);

// Every service plus the project-level names (volumes, networks).
AuthzResult check_project(const AuthzPolicy& policy, const compose::Project& project, const PathResolver& resolve);

// Pure path helpers, exposed for the loader and the tests.
//
// "/srv//data/./x/" -> "/srv/data/x". A relative path or any ".." component
// is an error: ".." is refused rather than folded, because folding it
// lexically is wrong when the component before it is a symlink.
stack::Result<std::string> normalize_host_path(const std::string& path);
// `path` is `dir` or below it, by whole components ("/srv/data2" is not
// within "/srv/data"). Both normalized.
bool path_within(const std::string& path, const std::string& dir);
// [A-Za-z0-9._-]+, not "." or "..": safe as one path component.
bool is_plain_name(const std::string& name);
// "net_admin" -> "CAP_NET_ADMIN"; "all" -> "ALL" (as spec_builder.cc reads cap_add).
std::string capability_key(const std::string& name);
// The sysctls a container may set without touching the host: they live in
// the container's own IPC/network namespaces (Docker's list).
bool is_namespaced_sysctl(const std::string& key);

}  // namespace stack::orch
