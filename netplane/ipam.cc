#include "netplane/ipam.h"

#include "base/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include <nlohmann/json.hpp>

#include "base/fd.h"

namespace stack::net {

namespace {

constexpr int kStateVersion = 1;

// "network backend 10.89.1.0/24": the prefix of every per-network error, so
// the user sees which network and which block ran into trouble.
std::string label(const IpamNetwork& n) { return "network " + n.name + " " + n.subnet.str(); }

Subnet must_parse(const char* cidr) { return *Subnet::parse(cidr); }

}  // namespace

std::vector<AddressPool> default_address_pools() {
  return {{must_parse("172.17.0.0/16"), 16}, {must_parse("172.18.0.0/16"), 16},
          {must_parse("172.19.0.0/16"), 16}, {must_parse("172.20.0.0/14"), 16},
          {must_parse("172.24.0.0/14"), 16}, {must_parse("172.28.0.0/14"), 16},
          {must_parse("192.168.0.0/16"), 20}};
}

Ipam::Ipam(std::vector<AddressPool> pools) : pools_(std::move(pools)) {}

const IpamNetwork* Ipam::find(const std::string& name) const {
  auto it = networks_.find(name);
  return it == networks_.end() ? nullptr : &it->second;
}

IpamNetwork* Ipam::find_mut(const std::string& name) {
  auto it = networks_.find(name);
  return it == networks_.end() ? nullptr : &it->second;
}

std::vector<std::string> Ipam::network_names() const {
  std::vector<std::string> out;
  for (const auto& [name, n] : networks_) out.push_back(name);
  return out;
}

stack::Result<void> Ipam::check_free_name(const std::string& name) const {
  if (name.empty()) return stack::fail("network name is empty");
  if (const auto* n = find(name))
    return stack::fail("network " + name + " already has subnet " + n->subnet.str());
  return {};
}

stack::Result<IpamNetwork> Ipam::allocate_subnet(const std::string& name,
                                              const std::vector<Subnet>& avoid) {
  STACK_TRY(check_free_name(name));
  auto clashes = [&](const Subnet& s) {
    for (const auto& [other, n] : networks_)
      if (n.subnet.overlaps(s)) return true;
    for (const auto& a : avoid)
      if (a.overlaps(s)) return true;
    return false;
  };
  for (const auto& pool : pools_) {
    uint64_t count = pool.base.subnet_count(pool.size);
    for (uint64_t i = 0; i < count; i++) {
      Subnet s = pool.base.nth_subnet(pool.size, i);
      if (clashes(s)) continue;
      auto n = add_network(name, s);
      if (!n) return n;
      find_mut(name)->user_subnet = false;
      n->user_subnet = false;
      return n;
    }
  }
  return stack::fail("allocate subnet for network " + name +
                  ": every address pool block is in use by another network or "
                  "overlaps a host route");
}

stack::Result<IpamNetwork> Ipam::add_network(const std::string& name, const Subnet& subnet,
                                          std::optional<IpAddr> gateway) {
  STACK_TRY(check_free_name(name));
  std::string ctx = "network " + name + ": subnet " + subnet.str();
  if (!subnet.network().is_v4()) return stack::fail(ctx + ": only IPv4 subnets are supported");
  // A /31 or /32 leaves no room for a gateway plus an endpoint.
  if (subnet.prefix() > 30) return stack::fail(ctx + ": too small (at most /30)");
  for (const auto& [other, n] : networks_)
    if (n.subnet.overlaps(subnet))
      return stack::fail(ctx + " overlaps network " + other + " (" + n.subnet.str() + ")");
  IpAddr gw = gateway.value_or(subnet.gateway());
  if (!subnet.contains(gw) || gw.v4_value() < subnet.first_host().v4_value() ||
      gw.v4_value() > subnet.last_host().v4_value())
    return stack::fail(ctx + ": gateway " + gw.str() + " is not a host address of the subnet");
  IpamNetwork n;
  n.name = name;
  n.subnet = subnet;
  n.gateway = gw;
  n.user_subnet = true;
  n.cursor = subnet.network().v4_value();  // first dynamic lease: first free host
  networks_[name] = n;
  return n;
}

stack::Result<void> Ipam::remove_network(const std::string& name) {
  if (networks_.erase(name) == 0) return stack::fail("network " + name + " has no IPAM state");
  return {};
}

stack::Result<IpAddr> Ipam::lease(const std::string& network, const std::string& id,
                               std::optional<IpAddr> requested) {
  IpamNetwork* n = find_mut(network);
  if (!n) return stack::fail("network " + network + " has no IPAM state");
  if (id.empty()) return stack::fail(label(*n) + ": endpoint id is empty");
  if (auto it = n->leases.find(id); it != n->leases.end()) {
    if (requested && *requested != it->second)
      return stack::fail(label(*n) + ": endpoint " + id + " already holds " + it->second.str() +
                      ", cannot also take " + requested->str());
    return it->second;
  }
  if (requested) {
    const IpAddr& a = *requested;
    std::string ctx = label(*n) + ": address " + a.str();
    if (!n->subnet.contains(a)) return stack::fail(ctx + " is outside the subnet");
    if (a == n->subnet.network()) return stack::fail(ctx + " is the network address");
    if (a == n->subnet.broadcast()) return stack::fail(ctx + " is the broadcast address");
    if (a == n->gateway) return stack::fail(ctx + " is the gateway");
    for (const auto& [holder, addr] : n->leases)
      if (addr == a) return stack::fail(ctx + " is already in use by " + holder);
    // Static addresses leave the cursor alone, as in Docker.
    n->leases[id] = a;
    return a;
  }
  std::set<uint32_t> used{n->gateway.v4_value()};
  for (const auto& [holder, addr] : n->leases) used.insert(addr.v4_value());
  uint32_t first = n->subnet.first_host().v4_value();
  uint32_t last = n->subnet.last_host().v4_value();
  uint32_t cand = n->cursor;
  for (uint64_t step = 0; step < n->subnet.host_count(); step++) {
    cand = (cand < first || cand >= last) ? first : cand + 1;
    if (used.count(cand)) continue;
    n->cursor = cand;
    IpAddr a = IpAddr::v4(cand);
    n->leases[id] = a;
    return a;
  }
  return stack::fail(label(*n) + ": no free address");
}

stack::Result<void> Ipam::release(const std::string& network, const std::string& id) {
  IpamNetwork* n = find_mut(network);
  if (!n) return stack::fail("network " + network + " has no IPAM state");
  if (n->leases.erase(id) == 0)
    return stack::fail(label(*n) + ": endpoint " + id + " holds no address");
  return {};
}

std::optional<IpAddr> Ipam::lookup(const std::string& network, const std::string& id) const {
  const IpamNetwork* n = find(network);
  if (!n) return std::nullopt;
  auto it = n->leases.find(id);
  if (it == n->leases.end()) return std::nullopt;
  return it->second;
}

std::vector<Lease> Ipam::leases(const std::string& network) const {
  std::vector<Lease> out;
  const IpamNetwork* n = find(network);
  if (!n) return out;
  for (const auto& [id, addr] : n->leases) out.push_back({id, addr});
  std::sort(out.begin(), out.end(),
            [](const Lease& a, const Lease& b) { return a.address < b.address; });
  return out;
}

std::string Ipam::to_json() const {
  nlohmann::json nets = nlohmann::json::array();
  for (const auto& [name, n] : networks_) {
    nlohmann::json leases = nlohmann::json::object();
    for (const auto& [id, addr] : n.leases) leases[id] = addr.str();
    nets.push_back({{"name", name},
                    {"subnet", n.subnet.str()},
                    {"gateway", n.gateway.str()},
                    {"user_subnet", n.user_subnet},
                    {"cursor", IpAddr::v4(n.cursor).str()},
                    {"leases", leases}});
  }
  nlohmann::json doc = {{"version", kStateVersion}, {"networks", nets}};
  return doc.dump(2) + "\n";
}

stack::Result<void> Ipam::from_json(const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return stack::fail("parse IPAM state: not valid JSON");
  // Rebuild through the public mutators on a scratch object so a file that
  // is valid JSON but inconsistent (overlapping subnets, duplicate or
  // out-of-range addresses) is rejected by the same rules as live calls.
  Ipam fresh(pools_);
  try {
    if (!doc.is_object() || doc.value("version", 0) != kStateVersion)
      return stack::fail("parse IPAM state: missing or unsupported \"version\" (want " +
                      std::to_string(kStateVersion) + ")");
    for (const auto& jn : doc.at("networks")) {
      std::string name = jn.at("name").get<std::string>();
      std::string ctx = "parse IPAM state: network " + name;
      auto subnet = Subnet::parse(jn.at("subnet").get<std::string>());
      if (!subnet) return tl::unexpected(subnet.error().wrap(ctx));
      auto gw = IpAddr::parse(jn.at("gateway").get<std::string>());
      if (!gw) return tl::unexpected(gw.error().wrap(ctx));
      auto added = fresh.add_network(name, *subnet, *gw);
      if (!added) return tl::unexpected(added.error().wrap("parse IPAM state"));
      IpamNetwork* n = fresh.find_mut(name);
      n->user_subnet = jn.at("user_subnet").get<bool>();
      auto cursor = IpAddr::parse(jn.at("cursor").get<std::string>());
      if (!cursor) return tl::unexpected(cursor.error().wrap(ctx));
      if (!subnet->contains(*cursor))
        return stack::fail(ctx + ": cursor " + cursor->str() + " is outside " + subnet->str());
      n->cursor = cursor->v4_value();
      for (const auto& [id, jaddr] : jn.at("leases").items()) {
        auto addr = IpAddr::parse(jaddr.get<std::string>());
        if (!addr) return tl::unexpected(addr.error().wrap(ctx + ": endpoint " + id));
        auto leased = fresh.lease(name, id, *addr);
        if (!leased) return tl::unexpected(leased.error().wrap("parse IPAM state"));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    // Missing keys and wrong types surface as exceptions from at()/get().
    return stack::fail(std::string("parse IPAM state: ") + e.what());
  }
  networks_ = std::move(fresh.networks_);
  return {};
}

stack::Result<void> Ipam::save(const std::string& path) const {
  // Process durability (base/io.h): leases matter only while the host
  // stays up; after a reboot no endpoint exists and the daemon re-leases.
  auto r = io::write_file_atomic(path, to_json(), 0600, io::Durability::Process);
  if (!r) return tl::unexpected(r.error().wrap("save IPAM state"));
  return {};
}

stack::Result<void> Ipam::load(const std::string& path) {
  stack::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) {  // first start: nothing was ever saved
      networks_.clear();
      return {};
    }
    return stack::fail_errno("load IPAM state: open " + path);
  }
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return stack::fail_errno("load IPAM state: read " + path);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  auto r = from_json(text);
  if (!r) return tl::unexpected(r.error().wrap("load IPAM state from " + path));
  return {};
}

}  // namespace stack::net
