// Any manager answers the stack verbs: one that does not lead relays a
// root caller's stack request (/v1/stacks..., /v1/events) to the leader's
// cluster endpoint, authenticated by its own manager certificate; the
// leader hands it to its own API socket (peer_server.h). The connection is
// relayed byte for byte (tls_relay.h), so streams and exec upgrades work
// as they do locally. The caller's identity does not travel: only root's
// requests are forwarded (a member of --group gets a 503 saying to ask the
// leader), since the leader runs them as root.
//
//   stack ──unix──> stackd (manager, not leading) ──TLS, manager cert──> leader's endpoint
//                                                                         └─unix─> leader's API
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "base/error.h"
#include "orchestrator/daemon/cluster/peer_client.h"
#include "orchestrator/daemon/server/http_routes.h"

namespace stack::orch {

// The routes the leader serves for every manager.
bool is_leader_route(const std::string& path);

struct LeaderEndpoint {
  std::string node, address;
  int port = 0;
};

class LeaderForward final : public LeaderForwarder {
 public:
  // `leader`: the leader's endpoint while another node leads, nullopt while
  // this one does (or none does).
  LeaderForward(PeerCredentials credentials, std::function<std::optional<LeaderEndpoint>()> leader)
      : credentials_(std::move(credentials)), leader_(std::move(leader)) {}
  bool wants(const std::string& path) override;
  stack::Result<void> forward(int client_fd, const std::string& bytes, const std::atomic<bool>& cancel) override;

 private:
  const PeerCredentials credentials_;
  const std::function<std::optional<LeaderEndpoint>()> leader_;
};

}  // namespace stack::orch
