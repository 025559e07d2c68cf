#include "orchestrator/daemon/cluster/leader_forward.h"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "orchestrator/daemon/cluster/peer_stream.h"

namespace stack::orch {

namespace asio = boost::asio;

bool is_leader_route(const std::string& path) {
  return path == "/v1/stacks" || path.rfind("/v1/stacks/", 0) == 0 || path == "/v1/events";
}

bool LeaderForward::wants(const std::string& path) { return is_leader_route(path) && leader_().has_value(); }

stack::Result<void> LeaderForward::forward(int client_fd, const std::string& bytes, const std::atomic<bool>& cancel) {
  auto leader = leader_();
  if (!leader) return stack::fail("no manager leads the cluster now; try again in a few seconds", EAGAIN);
  auto peer = PeerStream::connect(credentials_, leader->address, leader->port);
  if (!peer) return tl::unexpected(peer.error().wrap("the leader " + leader->node));
  boost::system::error_code ec;
  asio::write((*peer)->tls(), asio::buffer(bytes), ec);
  if (ec) return stack::fail("the leader " + leader->node + ": " + ec.message(), EHOSTUNREACH);
  spdlog::debug("api: relaying to the leader {} at {}:{}", leader->node, leader->address, leader->port);
  relay_tls((*peer)->tls(), client_fd, &cancel);
  (*peer)->shutdown();
  return {};
}

}  // namespace stack::orch
