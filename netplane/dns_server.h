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
//
// Details (dns_records.h has the exact policy, dns_message.h the wire rules):
// "stack-owned suffix" = the last label L of a record name "<x>.L" where <x>
// or L is itself a record name of N ("web.mystack" -> "mystack", "1.web" ->
// "web"); an alias like "api.example.com" does not capture ".com". UDP
// answers over 512 bytes (or the client's EDNS size) are sent with TC set
// and no answers, so the client retries over TCP. Malformed queries get
// FORMERR (or silence when not even a header). Forwarding is asynchronous:
// each forwarded query gets its own socket and random id, upstreams are
// tried in order, upstream_timeout_ms each (an ICMP "port unreachable"
// moves on at once); all failed -> SERVFAIL. A TCP client's query is
// forwarded over UDP too. Listeners on a removed network stop at once;
// forwards in flight finish on their own (at most the timeout) and their
// answer is dropped.
//
// Threads: every method is thread-safe; the io_context may run on any
// number of threads (sockets are serialised internally).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/error.h"

namespace stack::net {

struct DnsOptions {
  uint16_t port = 53;                  // tests use another port
  std::vector<std::string> upstreams;  // parse_dns_upstream() syntax; "" entries skipped; empty = read resolv_conf
                                       // (a missing file: no upstreams, forwarded names get SERVFAIL)
  std::string resolv_conf = "/etc/resolv.conf";
  int upstream_timeout_ms = 2000;      // per upstream, tried in order; all silent -> SERVFAIL
};

struct DnsRecord {
  std::string key;                 // owner of the record: an endpoint ("<container>/<network>")
  std::string network;
  std::vector<std::string> names;  // "web", "web.mystack", "mystack-web-1", "1.web", aliases
  std::string ipv4;
};

// An upstream resolver: "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353"
// (port 53 when absent). Error names the entry.
struct DnsUpstream {
  std::string address;
  uint16_t port = 53;
};
stack::Result<DnsUpstream> parse_dns_upstream(const std::string& spec);

class DnsServer {
 public:
  // Runs on `io` (the caller runs the io_context on its threads; `io` must
  // outlive the server). Reads options.resolv_conf when no upstreams are
  // given; an upstream that does not parse is an error naming it.
  static stack::Result<std::unique_ptr<DnsServer>> create(boost::asio::io_context& io, DnsOptions options);
  ~DnsServer();

  // Starts answering on gateway:port (UDP + TCP) for `network`. Idempotent.
  stack::Result<void> add_network(const std::string& network, const std::string& gateway);
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
