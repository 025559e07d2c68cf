// Reading the authorization policy file (authz_policy.h) that stackd loads
// once at start: `<root>/authz.json`, or `stackd --authz-policy FILE`.
//
// JSON, not YAML: a security policy must have one reading. YAML's implicit
// types (`no`/`off` as false, `0755` as octal, anchors and merge keys) make
// it easy to write or review one thing and mean another; JSON has one
// syntax, the daemon already speaks it, and nlohmann reports syntax errors
// by position. Every key is optional (absent = denied), an unknown or
// duplicated key is an error (a typo such as "privilegd": true must not
// silently leave the rule at its default), and so is a wrong type:
//
//   {
//     "version": 1,
//     "privileged": false,
//     "host_namespaces": false,
//     "cap_add": ["NET_ADMIN"],        // or true (any), false/[] (none)
//     "devices": ["/dev/fuse"],        // or true (any), false/[] (none)
//     "bind_mounts": ["/srv/stack"],   // host dirs bind sources may be in
//     "unconfined": false,
//     "privileged_ports": false,
//     "sysctls": false
//   }
//
// (JSON has no comments; the ones above are for this header only.) Errors
// name the file, the line and the key: "/var/lib/stack/authz.json:5:
// \"cap_add\"[0]: unknown capability \"NET_ADMN\"".
#pragma once

#include <string>

#include "orchestrator/daemon/server/authz_policy.h"
#include "base/error.h"

namespace stack::orch {

// Parses the text of a policy file. `source` names the file in errors and in
// the policy. Directories and devices are normalized here; `resolve` (see
// authz_policy.h) maps them to what the kernel reaches, as the request's
// paths will be.
stack::Result<AuthzPolicy> parse_authz_policy(const std::string& text, const std::string& source,
                                           const PathResolver& resolve);

// Reads `path`. A missing file gives the default policy unless `required`
// (the path was given with --authz-policy: a typo there must not fall back
// silently). The file must belong to the daemon's user and not be writable
// by group or others, or a member of stackd's group could rewrite its own
// permissions.
stack::Result<AuthzPolicy> load_authz_policy(const std::string& path, bool required, const PathResolver& resolve);

// The daemon's resolver: realpath() of the longest existing head, the
// missing tail appended (bind sources the daemon will create).
stack::Result<std::string> resolve_host_path(const std::string& normalized_path);

}  // namespace stack::orch
