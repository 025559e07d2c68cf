// Byte relays between a cluster endpoint's TLS stream and a plain local
// socket, both ways, for a manager that forwards its clients' stack
// requests to the leader (leader_forward.h) and for the leader that hands
// them to its own API socket (peer_server.h). Streams (logs -f, events) and
// upgraded exec streams pass through unchanged: the relay knows no HTTP.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

#include <atomic>
#include <string>

#include "base/error.h"
#include "base/fd.h"

namespace stack::orch {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

// Copies until either side ends (or `cancel`, looked at every 200 ms).
// The TLS stream is used from this thread only.
void relay_tls(TlsStream& tls, int plain_fd, const std::atomic<bool>* cancel);

// Clears a socket's SO_RCVTIMEO/SO_SNDTIMEO: a relayed stream may be quiet
// for as long as the client likes.
void clear_socket_timeouts(int fd);

}  // namespace stack::orch
