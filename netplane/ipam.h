// IP address management for bridge networks: which subnet each network owns
// and which address each endpoint (container) holds in it.
//
// Pure bookkeeping: it never looks at the host. The caller reads the host's
// own routes/addresses and passes them as `avoid` to allocate_subnet(), and
// calls save() after every change so a daemon restart (load()) hands every
// container the address it had.
//
// Thread-safety: none. An Ipam is owned by the network manager, which
// serialises every call (one mutex around network create/connect/remove);
// const methods may run concurrently only with other const methods.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "netplane/subnet.h"
#include "base/error.h"

namespace stack::net {

// Docker's default-address-pools entry: carve `base` into blocks of /size.
struct AddressPool {
  Subnet base;
  int size = 24;
};

// Docker's defaults: 172.17.0.0/16 .. 172.31.0.0/16 as /16s, then
// 192.168.0.0/16 split into /20s.
std::vector<AddressPool> default_address_pools();

struct Lease {
  std::string id;   // endpoint / container id
  IpAddr address;
};

// One network's IPAM state.
struct IpamNetwork {
  std::string name;
  Subnet subnet;
  IpAddr gateway;
  bool user_subnet = false;            // requested explicitly, not from a pool
  std::map<std::string, IpAddr> leases;  // id -> address
  // Last dynamically leased address; the next dynamic lease searches after it
  // and wraps, so a just-released address is not handed out again at once
  // (Docker does the same, which keeps stale ARP/DNS entries harmless).
  uint32_t cursor = 0;
};

class Ipam {
 public:
  explicit Ipam(std::vector<AddressPool> pools = default_address_pools());

  // Picks the first pool block that overlaps no existing network (pool or
  // explicit) and none of `avoid`, and records network `name` with it; the
  // gateway is its first host. Errors when `name` exists or pools are spent.
  // Networks already recorded (explicit or pooled) are always avoided; the
  // caller adds to `avoid` the host's routes/addresses and any subnet that a
  // not-yet-created network requests explicitly (e.g. later in a compose
  // file), so a pool pick never steals it.
  stack::Result<IpamNetwork> allocate_subnet(const std::string& name,
                                          const std::vector<Subnet>& avoid);
  // Records network `name` with a user-requested IPv4 subnet (and optional
  // gateway, default first host). Overlap with an existing network is an
  // error naming both networks.
  stack::Result<IpamNetwork> add_network(const std::string& name, const Subnet& subnet,
                                      std::optional<IpAddr> gateway = std::nullopt);
  // Forgets the network and its leases; error when unknown.
  stack::Result<void> remove_network(const std::string& name);

  const IpamNetwork* find(const std::string& name) const;
  std::vector<std::string> network_names() const;  // sorted

  // Leases an address on `network` to endpoint `id`: `requested` (a static
  // ipv4_address) or the next free host after the cursor. Leasing an id that
  // already holds an address returns that address (restart-safe), unless a
  // different static address is requested, which is an error.
  stack::Result<IpAddr> lease(const std::string& network, const std::string& id,
                           std::optional<IpAddr> requested = std::nullopt);
  // Releases id's lease; error when it holds none.
  stack::Result<void> release(const std::string& network, const std::string& id);
  std::optional<IpAddr> lookup(const std::string& network, const std::string& id) const;
  std::vector<Lease> leases(const std::string& network) const;  // sorted by address

  // Writes the whole state as JSON to `path` atomically (path.tmp, fsync,
  // rename, fsync of the directory): a crash leaves the old or new file.
  stack::Result<void> save(const std::string& path) const;
  // Replaces the state with the one in `path`. A missing file is a first
  // start (empty state); an unreadable, corrupt or inconsistent file is an
  // error, never silently an empty state, since that would re-lease
  // addresses running containers still hold.
  stack::Result<void> load(const std::string& path);

  // JSON text of the state, and its inverse (used by save/load; exposed for
  // tests and `stack network inspect`-style dumps).
  std::string to_json() const;
  stack::Result<void> from_json(const std::string& text);

 private:
  stack::Result<void> check_free_name(const std::string& name) const;
  IpamNetwork* find_mut(const std::string& name);

  std::vector<AddressPool> pools_;
  std::map<std::string, IpamNetwork> networks_;
};

}  // namespace stack::net
