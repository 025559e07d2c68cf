// A cluster node's endpoint: HTTPS on <advertise-addr>:<api-port> (2377 by
// default, as Swarm's), serving the node's certificate, on every node. Two
// kinds of callers: a node that joins (no certificate yet: a manager's join
// routes, join_wire.h) and a manager asking this node about its replicas
// (node_routes.h), which proves who it is with its cluster certificate. The
// server checks a client certificate against the cluster's CA and hands the
// identity it carries to the handler; what each route requires is the
// handler's. One request per connection, each on a thread of its own (at most
// 64 at once) with 10 s socket timeouts and a 64 KiB body limit.
//
// A request with Upgrade: stack-stream is an exec (node_routes.h): the exec
// handler starts it, the server answers 101 and relays its stdio as exec
// frames on the connection (relay_frames), without timeouts.
//
// On a manager, a stack request from another manager (leader_forward.h) is
// not handled here: once the caller's manager certificate is checked, the
// rest of the connection is relayed to `api_socket`, this stackd's own API,
// without timeouts (so streams and exec work as they do locally).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "base/error.h"
#include "orchestrator/cluster/pki.h"
#include "orchestrator/daemon/node/exec_session.h"

namespace stack::orch {

struct PeerRequest {
  std::string method, target, body;
  // The caller's certificate, verified against the cluster CA; nullopt when
  // it showed none (a joining node) or one the CA did not sign.
  std::optional<cluster::CertIdentity> peer;
};

struct PeerReply {
  int status = 200;
  std::string body;            // JSON
  std::function<void()> after;  // runs once the reply is written (a restart)
};

class PeerServer {
 public:
  using Handler = std::function<PeerReply(const PeerRequest&)>;
  // Starts an exec; an error's code picks the status (ENOENT 404, EACCES
  // 403, EINVAL 400, else 500).
  using ExecHandler = std::function<stack::Result<std::unique_ptr<ExecSession>>(const PeerRequest&)>;

  static stack::Result<std::unique_ptr<PeerServer>> start(const std::string& addr, int port,
                                                          const std::string& cert_file, const std::string& key_file,
                                                          const std::string& ca_file, const std::string& api_socket,
                                                          Handler handler, ExecHandler exec_handler);
  ~PeerServer();  // stops accepting, ends open connections, waits for their threads
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

 private:
  struct Impl;
  explicit PeerServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stack::orch
