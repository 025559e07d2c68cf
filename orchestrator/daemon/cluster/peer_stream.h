// A TLS connection to another node's cluster endpoint (peer_server.h) that
// stays open for a stream: a manager relaying a stack request to the leader
// (leader_forward.h), the leader relaying an exec to the node that runs the
// replica (remote_exec.h). This node proves who it is with its cluster
// certificate and trusts only the cluster's CA for the other's, checked
// against the address dialled. Short calls use peer_call (peer_client.h).
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <string>

#include "base/error.h"
#include "orchestrator/daemon/cluster/peer_client.h"
#include "orchestrator/daemon/cluster/tls_relay.h"

namespace stack::orch {

class PeerStream {
 public:
  // Connects and completes the TLS handshake; TCP_NODELAY is set (a
  // stream's last small chunk goes at once).
  static stack::Result<std::unique_ptr<PeerStream>> connect(const PeerCredentials& credentials,
                                                           const std::string& address, int port);
  TlsStream& tls() { return *stream_; }
  // Ends the connection: a TLS close_notify (not waiting for the other
  // side's), then the socket shut both ways.
  void shutdown();

 private:
  PeerStream() = default;
  boost::asio::io_context io_;
  boost::asio::ssl::context context_{boost::asio::ssl::context::tls_client};
  // Made once context_ is configured: an SSL object takes its certificate
  // and verify mode from the context when it is made.
  std::optional<TlsStream> stream_;
};

}  // namespace stack::orch
