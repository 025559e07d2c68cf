// A stack's networking as the engine wires it: compose networks become
// NetworkManager networks named "<stack>_<net>" (external ones keep their
// own name and are never created or removed here), each with a DNS listener
// on its gateway; every replica endpoint gets a DNS record (names: service,
// service.<stack>, the replica name, container_name, the network's aliases,
// "<slot>.<service>"); every published port is one PortMapping per
// (stack, service, port) whose backends are the replicas in the pool.
//
// sync() is called on every change of a stack's replica set (start, exit,
// health transition, removal) and makes DNS and nft match it; it only
// touches what changed. Thread-safe (one mutex); the engine calls it from
// its supervisor threads.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "netplane/dns_server.h"
#include "netplane/network_manager.h"
#include "orchestrator/compose/model.h"
#include "orchestrator/compose/normalize.h"
#include "base/error.h"

namespace stack::orch {

// What sync() needs to know of one replica.
struct WiredReplica {
  std::string service;
  int slot = 1;
  std::string name;          // replica name
  std::string container_id;
  std::string node;          // the node it runs on
  std::map<std::string, std::string> addresses;  // manager network name -> ipv4
  bool in_dns = false;   // running and not unhealthy
  bool in_pool = false;  // running and healthy (or without a health check)
};

struct PublishedPort {
  std::string service;
  compose::PortSpec port;
  net::PortMapping mapping;  // with the backends it has in nft
  bool live = false;         // in nft now
};

// "<stack>_<net>", or the external network's own name.
std::string network_name(const compose::Project& project, const std::string& key);
using compose::ordered_networks;  // eth0's network first (compose/normalize.h)
// Every published port of the project (services with published == 0 and
// published_auto are not published: we do not pick ephemeral host ports).
std::vector<PublishedPort> published_ports(const compose::Project& project);
// DNS names of one replica endpoint on network `key`.
std::vector<std::string> dns_names(const compose::Project& project, const compose::Service& service, int slot,
                                   const std::string& replica_name, const std::string& key);

class NetWiring {
 public:
  NetWiring(net::NetworkManager& networks, net::DnsServer& dns) : nm_(networks), dns_(dns) {}

  // Creates (idempotent) every network the project's services use and starts
  // DNS on their gateways. `created` receives the names this call made, for
  // the caller's rollback. Returns compose key -> network.
  stack::Result<std::map<std::string, net::NetworkInfo>> ensure_networks(const compose::Project& project,
                                                                      std::vector<std::string>* created);
  // Removes the stack's own networks (not external ones) and their DNS.
  stack::Result<void> remove_networks(const compose::Project& project);
  void remove_network_names(const std::vector<std::string>& names);

  // Fails (EADDRINUSE, naming service and port) when a port the project
  // publishes is taken by anything but this stack. Creates nothing.
  stack::Result<void> check_ports(const compose::Project& project);
  // Records the project's published ports and unpublishes the stack's
  // mappings the project no longer has. The nft mapping of a port exists
  // while it has at least one backend (nat.h cannot express an empty pool):
  // sync() publishes it with the first backend and unpublishes it when the
  // last one leaves. A mapping left by a previous daemon (EEXIST) is taken
  // over.
  stack::Result<void> publish(const compose::Project& project);
  void unpublish_all(const std::string& stack);
  // Ports this stack publishes (for ReplicaView), by service.
  std::vector<PublishedPort> ports_of(const std::string& stack) const;

  void sync(const compose::Project& project, const std::vector<WiredReplica>& replicas);
  // Drops every DNS record of the stack.
  void forget_dns(const std::string& stack);

 private:
  struct StackWiring {
    std::map<std::string, PublishedPort> ports;  // mapping tag -> port (with current backends)
    std::set<std::string> dns_keys;
  };
  net::NetworkManager& nm_;
  net::DnsServer& dns_;
  mutable std::mutex mu_;
  std::map<std::string, StackWiring> stacks_;
};

}  // namespace stack::orch
