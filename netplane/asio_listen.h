// Listening sockets for the netplane's Asio servers (the DNS resolver, the
// IPv6 port forwarder): opened close-on-exec (Asio does not, and stackd
// spawns shims that must not inherit a listener), IPv6 ones IPv6-only (so
// "::" never takes the IPv4 port), TCP ones with SO_REUSEADDR as servers
// bind (a gone listener's TIME_WAIT connections are no conflict).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include "base/fd.h"

namespace stack::net {

// Opens, binds and listens; the error of the step that failed (the caller
// names the endpoint), with the acceptor left closed or to be closed.
inline boost::system::error_code listen_tcp(boost::asio::ip::tcp::acceptor& a,
                                            const boost::asio::ip::tcp::endpoint& at) {
  boost::system::error_code ec;
  a.open(at.protocol(), ec);
  if (ec) return ec;
  stack::set_cloexec(a.native_handle());
  if (at.address().is_v6()) a.set_option(boost::asio::ip::v6_only(true), ec);
  if (!ec) a.set_option(boost::asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(at, ec);
  if (!ec) a.listen(boost::asio::socket_base::max_listen_connections, ec);
  return ec;
}

inline boost::system::error_code bind_udp(boost::asio::ip::udp::socket& s, const boost::asio::ip::udp::endpoint& at) {
  boost::system::error_code ec;
  s.open(at.protocol(), ec);
  if (ec) return ec;
  stack::set_cloexec(s.native_handle());
  if (at.address().is_v6()) s.set_option(boost::asio::ip::v6_only(true), ec);
  if (!ec) s.bind(at, ec);
  return ec;
}

}  // namespace stack::net
