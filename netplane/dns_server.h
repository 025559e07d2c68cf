// The embedded resolver: one per daemon, listening (UDP and TCP, port 53) on
// every network's gateway address. A query that arrives on network N's
// gateway is answered from N's records only (isolation), so names of other
// networks and stacks are invisible. Record names are case-insensitive and
// matched with or without a trailing dot; A queries for stack names return
// every current address (order rotated per query: round robin); AAAA for a
// stack name returns NOERROR with no answer; an unknown name inside a
// stack-owned suffix, or a bare single-label name, gets NXDOMAIN; everything
// else is forwarded to the host's resolvers (/etc/resolv.conf, read at start)
// and the answer relayed unchanged.
//
// Records are replaced under a mutex and take effect for the next query (no
// caching, TTL 0 on our answers), so a started replica resolves at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "runtime/kernel/error.h"

namespace stack::net {

struct DnsOptions {
  uint16_t port = 53;                  // tests use another port
  std::vector<std::string> upstreams;  // "" entries skipped; empty = read resolv_conf
  std::string resolv_conf = "/etc/resolv.conf";
  int upstream_timeout_ms = 2000;
};

struct DnsRecord {
  std::string key;                 // owner of the record: an endpoint ("<container>/<network>")
  std::string network;
  std::vector<std::string> names;  // "web", "web.mystack", "mystack-web-1", "1.web", aliases
  std::string ipv4;
};

class DnsServer {
 public:
  // Runs on `io` (the caller runs the io_context on its threads).
  static rt::Result<std::unique_ptr<DnsServer>> create(boost::asio::io_context& io, DnsOptions options);
  ~DnsServer();

  // Starts answering on gateway:port (UDP + TCP) for `network`. Idempotent.
  rt::Result<void> add_network(const std::string& network, const std::string& gateway);
  // Stops listening and drops the network's records.
  void remove_network(const std::string& network);

  // Adds or replaces the record with this key.
  void upsert(const DnsRecord& record);
  void remove(const std::string& key);
  std::vector<DnsRecord> records(const std::string& network) const;

 private:
  DnsServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stack::net
