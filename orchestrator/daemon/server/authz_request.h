// The authorization gate: whether a non-root caller's API request may reach
// the routes (http_routes.h). api_server.cc calls it for every request of a
// peer whose SO_PEERCRED uid is not 0, before handle_request(); root never
// goes through it.
//
// It fails closed: it knows the routes that only read (every GET), the ones
// that can only take away (down, stop), and those that create or change
// containers, whose bodies it parses as the route will and checks with the
// policy. Anything else a non-root caller sends (another method, a POST route
// it does not know, a body it cannot parse) is refused, so a route added
// later is closed to non-root callers until it is taught here.
//
//   up                 the project in the body, every service, and the
//                      raw service keys pid/ipc/uts/userns_mode/cgroup
//                      (dropped by the model today; refused here if "host"
//                      so a later implementation is not open by default)
//   start, restart     the stored project's services named (all when none)
//   scale              the stored project's services named
//   rollback           the service's previous definition, as up checks it
//   plan               nothing: it changes nothing (what it shows, GETs show)
//   image pull,        nothing: pull is what `up` does for any caller;
//   remove, prune      the others only take away
//   image load,        refused: they set what an image name runs (root's
//   import, push       stacks included), or push with stackd's credentials
//   exec, run          the stored project's service: exec into (or a
//                      one-off copy of) a privileged container a root caller
//                      started is as good as starting one. The request's own
//                      fields (user, env, workdir, cmd) cannot raise what
//                      the container may do: an exec process gets the
//                      container's capabilities, seccomp and namespaces, and
//                      root in a container is what any caller gets by
//                      default. Unknown fields ("privileged": true) are
//                      refused by the parser.
//
// The stored project is read before the engine acts: a root caller replacing
// it in between is root's decision, not the caller's.
#pragma once

#include "orchestrator/daemon/server/authz_policy.h"
#include "orchestrator/daemon/engine/engine.h"
#include "orchestrator/daemon/server/http_routes.h"

namespace stack::orch {

AuthzResult authorize_request(const AuthzPolicy& policy, Engine& engine, const ApiRequest& request,
                              const PathResolver& resolve);

}  // namespace stack::orch
