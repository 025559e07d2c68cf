// Published ports on IPv6 host addresses ("[::1]:8080:80", "::1:8080:80",
// "[::]:8080:80"): a forwarder from the IPv6 listener to the replicas' IPv4
// addresses, as Docker's docker-proxy does for the same cases.
//
// Why not nftables DNAT like every IPv4 mapping (nat.h): the networks are
// IPv4, and nft cannot translate a v6 packet into a v4 one; and ::1 cannot be
// DNATed to a bridge at all (Linux has no route_localnet for IPv6: replies
// de-NATed to ::1 arrive on the bridge and the kernel's strict route lookup
// for loopback destinations drops them). So the kernel terminates the v6
// connection here and a second one goes to the replica. TCP payload moves
// with splice(2) through a pipe, socket to socket: the bytes never enter
// user memory. UDP is relayed datagram by datagram, one backend socket per
// client address (idle ones closed after 90 s, Docker's figure).
//
// Semantics kept from the DNAT mappings: each new connection (or new UDP
// client) goes to the next backend round robin; changing the backends affects
// new connections only (UDP clients of a removed backend move on with their
// next datagram); no backends = the port stays ours, a connection is
// accepted and reset at once (so a client sees a failed connect). Unlike
// DNAT, the replica sees the bridge's gateway as the client address.
//
// Connections: a backend that does not accept within 5 s (or refuses) is
// skipped for the next one. An end of stream or an error ends one direction
// (the other side's write half is shut down), as docker-proxy does, so an
// answer is not lost to a reset; remove() resets everything. Each TCP
// connection holds 6 fds (2 sockets, 2 pipes): at most 8192 per mapping, and
// stackd raises its soft fd limit to the hard one. A UDP port serves at most
// 1024 clients at once.
//
// Threads: one io thread, started by the constructor in the caller's network
// namespace (the sockets and backend connections live there). Public methods
// are thread-safe; add() binds in the caller's thread so errors come back at
// once; remove() returns after the listeners and their connections closed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "netplane/nat.h"
#include "base/error.h"

namespace stack::net {

class PortProxy {
 public:
  PortProxy();
  ~PortProxy();
  PortProxy(const PortProxy&) = delete;
  PortProxy& operator=(const PortProxy&) = delete;

  // Binds every host port of `m` on m.host_ip (an IPv6 address; "::" = all,
  // IPv6 only) and starts forwarding to m.backends. A port that is taken
  // fails with EADDRINUSE naming it, with nothing left bound; a tag that is
  // already proxied fails with EEXIST.
  stack::Result<void> add(const PortMapping& m);
  // New connections go to these backends from now on; false when the
  // mapping is not proxied.
  bool set_backends(const PortMapping& m);
  // Closes the listeners and every connection of the mapping; absent: no-op.
  void remove(const PortMapping& m);
  bool has(const PortMapping& m) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stack::net
