// stackd's HTTP/1.1 server on a Unix socket (Boost.Beast over
// asio::local::stream_protocol), one thread per connection. The socket is
// mode 0660, group `group`; each peer is checked with SO_PEERCRED (uid 0 or a
// member of `group`, else 403). Requests go to http_routes.h; those of a
// peer whose uid is not 0 first pass the authorization policy
// (authz_request.h), which answers 403 naming the rule that refused.
//
// Ownership: the server owns the listening socket (and unlinks its path on
// destruction) and the connection threads, which it joins in stop()/the
// destructor. The Engine outlives the server.
#pragma once

#include <memory>
#include <string>

#include "orchestrator/daemon/server/authz_policy.h"
#include "orchestrator/daemon/engine/engine.h"
#include "orchestrator/daemon/server/http_routes.h"
#include "base/error.h"

namespace stack::orch {

struct ApiServerOptions {
  std::string socket_path = "/run/stack/stackd.sock";
  std::string group;  // "" = root only
  ServerInfo info;
  // For peers with uid != 0; null = the default policy (every rule denied).
  std::shared_ptr<const AuthzPolicy> authz;
  // How request paths are resolved for the policy; null = realpath
  // (authz_policy_file.h).
  PathResolver resolve_path;
};

class ApiServer {
 public:
  // Binds the socket (replacing a stale file at the path; the caller holds
  // the daemon lock so no live daemon owns it).
  static stack::Result<std::unique_ptr<ApiServer>> open(const ApiServerOptions& options, Engine& engine);
  virtual ~ApiServer() = default;
  // Accepts until stop(); then cancels streams and joins every connection.
  virtual void serve() = 0;
  // Thread-safe; serve() returns soon after.
  virtual void stop() = 0;
};

}  // namespace stack::orch
