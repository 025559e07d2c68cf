// Networks and endpoints. Published ports and crash recovery are in
// network_manager_ports.cc.
#include "netplane/network_manager.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/io.h"
#include "netplane/bridge.h"
#include "netplane/ifname.h"
#include "netplane/netns.h"
#include "netplane/network_manager_impl.h"
#include "netplane/tc.h"
#include "netplane/veth.h"

namespace stack::net {
namespace {

using nlohmann::json;

bool valid_network_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}


json mapping_json(const PortMapping& m) {
  json b = json::array();
  for (const auto& x : m.backends) b.push_back({{"ip", x.ip}, {"port", x.port}});
  return {{"network", m.network}, {"host_ip", m.host_ip}, {"host_port", m.host_port},
          {"host_port_end", m.host_port_end}, {"protocol", m.protocol}, {"backends", b}};
}

PortMapping mapping_from(const json& j) {
  PortMapping m;
  m.network = j.at("network").get<std::string>();
  m.host_ip = j.at("host_ip").get<std::string>();
  m.host_port = j.at("host_port").get<uint16_t>();
  m.host_port_end = j.at("host_port_end").get<uint16_t>();
  m.protocol = j.at("protocol").get<std::string>();
  for (const auto& b : j.at("backends")) m.backends.push_back({b.at("ip").get<std::string>(), b.at("port").get<uint16_t>()});
  return m;
}

std::string mac_of(rtnl_link* link) {
  nl_addr* a = rtnl_link_get_addr(link);
  if (!a) return "";
  char buf[64];
  return nl_addr2str(a, buf, sizeof buf);
}

}  // namespace

std::string bridge_name(const std::string& network) {
  // endpoint_ifname's hash over ("", network): stable, and no container id is empty.
  return "stk-" + endpoint_ifname("", network).substr(2, 10);
}

NetworkInfo NetworkManager::Impl::info(const std::string& name) const {
  NetworkInfo i;
  const IpamNetwork* n = ipam.find(name);
  i.name = name;
  i.bridge = bridge_name(name);
  if (n) {
    i.subnet = n->subnet.str();
    i.gateway = n->gateway.str();
    i.prefix = n->subnet.prefix();
  }
  if (auto it = meta.find(name); it != meta.end()) {
    i.internal = it->second.internal;
    i.mtu = it->second.mtu;
  }
  return i;
}

Result<void> NetworkManager::Impl::save_ipam() const {
  STACK_TRY_CTX(storage->save("ipam", ipam.to_json()), "save IPAM state");
  return {};
}

Result<void> NetworkManager::Impl::save() const {
  STACK_TRY(save_ipam());
  json nets = json::object();
  for (const auto& [name, m] : meta) nets[name] = {{"internal", m.internal}, {"mtu", m.mtu}};
  json maps = json::array();
  for (const auto& m : mappings) maps.push_back(mapping_json(m));
  json doc = {{"version", 1}, {"networks", nets}, {"mappings", maps}};
  // Process durability for the files (net_state_storage.h): published ports are re-made after a reboot.
  STACK_TRY_CTX(storage->save("networks", doc.dump(2) + "\n"), "save network state");
  return {};
}

Result<void> NetworkManager::Impl::load() {
  // A missing document is a first start; an unreadable or corrupt one is an
  // error, never silently an empty state (running containers hold leases).
  auto ipam_text = storage->load("ipam");
  if (!ipam_text) return tl::unexpected(ipam_text.error().wrap("load IPAM state"));
  if (*ipam_text) STACK_TRY_CTX(ipam.from_json(**ipam_text), "load IPAM state from " + storage->where("ipam"));
  auto text = storage->load("networks");
  if (!text) return tl::unexpected(text.error().wrap("load network state"));
  if (!*text) return {};
  try {
    json doc = json::parse(**text);
    for (const auto& [name, m] : doc.at("networks").items())
      meta[name] = NetworkMeta{m.at("internal").get<bool>(), m.at("mtu").get<unsigned>()};
    for (const auto& m : doc.at("mappings")) mappings.push_back(mapping_from(m));
  } catch (const json::exception& e) {
    // Never start from an empty state silently: published ports would be forgotten.
    return stack::fail("load network state from " + storage->where("networks") + ": " + e.what(), EINVAL);
  }
  return {};
}

Result<void> NetworkManager::Impl::ensure_kernel_state(const std::string& name) {
  NetworkInfo i = info(name);
  std::string cidr = i.gateway + "/" + std::to_string(i.prefix);
  STACK_TRY(ensure_bridge(nl, i.bridge, i.mtu, cidr, name));
  if (!i.internal)  // egress and published ports from outside need forwarding, as Docker sets it
    STACK_TRY_CTX(io::write_file_in_place("/proc/sys/net/ipv4/ip_forward", "1"), "enable IPv4 forwarding");
  STACK_TRY(add_network(nft, name, i.bridge, i.subnet, i.internal));
  return {};
}

Result<std::unique_ptr<NetworkManager>> NetworkManager::open(const std::string& state_dir,
                                                             std::vector<AddressPool> pools) {
  const std::string what = "open network manager (state " + state_dir + ")";
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return stack::fail(what + ": create " + state_dir + ": " + ec.message(), ec.value());
  return open(file_net_state_storage(state_dir), std::move(pools));
}

Result<std::unique_ptr<NetworkManager>> NetworkManager::open(std::unique_ptr<NetStateStorage> storage,
                                                             std::vector<AddressPool> pools) {
  const std::string what = "open network manager";
  auto sock = NetlinkSocket::open();
  if (!sock) return tl::unexpected(sock.error().wrap(what));
  auto nft = Nft::open();
  if (!nft) return tl::unexpected(nft.error().wrap(what));
  std::unique_ptr<NetworkManager> mgr(new NetworkManager());
  mgr->impl_ = std::make_unique<Impl>(std::move(*sock), std::move(*nft));
  Impl& im = *mgr->impl_;
  im.ipam = Ipam(std::move(pools));
  im.storage = std::move(storage);
  STACK_TRY_CTX(im.load(), what);
  STACK_TRY_CTX(ensure_base(im.nft), what);
  return mgr;
}

NetworkManager::~NetworkManager() = default;

Result<NetworkInfo> NetworkManager::create_network(const NetworkConfig& c) {
  std::lock_guard lock(mu_);
  Impl& im = *impl_;
  const std::string what = "create network " + c.name;
  if (!valid_network_name(c.name))
    return stack::fail(what + ": invalid name (1-64 of letters, digits, '_', '-', '.')", EINVAL);
  if (c.mtu < 68 || c.mtu > 65535) return stack::fail(what + ": mtu must be 68..65535", EINVAL);
  std::optional<Subnet> subnet;
  if (!c.subnet.empty()) {
    auto s = Subnet::parse(c.subnet);
    if (!s) return tl::unexpected(s.error().wrap(what));
    if (s->family() != Family::v4) return stack::fail(what + ": only IPv4 subnets are supported", EINVAL);
    subnet = *s;
  }
  std::optional<IpAddr> gateway;
  if (!c.gateway.empty()) {
    auto g = IpAddr::parse(c.gateway);
    if (!g) return tl::unexpected(g.error().wrap(what));
    gateway = *g;
  }

  if (const IpamNetwork* n = im.ipam.find(c.name)) {
    // Idempotent re-create: same network, kernel state made again if missing.
    if (subnet && *subnet != n->subnet)
      return stack::fail(what + ": exists with subnet " + n->subnet.str() + ", not " + subnet->str(), EEXIST);
    if (!im.meta.count(c.name)) im.meta[c.name] = NetworkMeta{c.internal, c.mtu};
    STACK_TRY_CTX(im.ensure_kernel_state(c.name), what);
    return im.info(c.name);
  }

  Undo undo;
  undo.add([&] { (void)im.save(); });  // runs last: the state without this network
  if (subnet) {
    auto r = im.ipam.add_network(c.name, *subnet, gateway);
    if (!r) return tl::unexpected(r.error().wrap(what));
  } else {
    auto avoid = host_subnets(im.nl);
    if (!avoid) return tl::unexpected(avoid.error().wrap(what));
    auto r = im.ipam.allocate_subnet(c.name, *avoid);
    if (!r) return tl::unexpected(r.error().wrap(what));
  }
  undo.add([&] { (void)im.ipam.remove_network(c.name); });
  im.meta[c.name] = NetworkMeta{c.internal, c.mtu};
  undo.add([&] { im.meta.erase(c.name); });
  // Recorded before any kernel object exists: sweep() removes only what
  // belongs to networks in our state, so a crash from here on must leave the
  // name there for the next daemon to find the bridge and rules.
  STACK_TRY_CTX(im.save(), what);
  const std::string bridge = bridge_name(c.name);
  // A bridge of that name tagged for this network is a leftover of ours
  // (state lost in a crash) and is reused; anything else is not ours.
  if (auto l = get_link(im.nl, bridge); l && *l) {
    const char* alias = rtnl_link_get_ifalias(l->get());
    if (!alias || alias != link_tag(c.name))
      return stack::fail(what + ": link " + bridge + " already exists (name hash collision or foreign link)", EEXIST);
  }
  undo.add([&] { (void)delete_bridge(im.nl, bridge); });
  undo.add([&] { (void)net::remove_network(im.nft, c.name, bridge); });
  STACK_TRY_CTX(im.ensure_kernel_state(c.name), what);
  STACK_TRY_CTX(im.save(), what);
  undo.commit();
  return im.info(c.name);
}

Result<void> NetworkManager::remove_network(const std::string& name) {
  std::lock_guard lock(mu_);
  Impl& im = *impl_;
  const std::string what = "remove network " + name;
  if (!im.ipam.find(name)) return {};
  auto leases = im.ipam.leases(name);
  if (!leases.empty()) {
    std::string who;
    for (const auto& l : leases) who += (who.empty() ? "" : ", ") + l.id;
    return stack::fail(what + ": endpoints still connected: " + who, EBUSY);
  }
  const std::string bridge = bridge_name(name);
  // Published ports of the network go with it (their backends are gone).
  std::vector<PortMapping> keep, mine;
  for (const auto& m : im.mappings) (m.network == name ? mine : keep).push_back(m);
  Undo undo;
  for (const auto& m : mine) {
    STACK_TRY_CTX(im.swap_rules(&m, nullptr), what);
    undo.add([&im, m] { (void)im.swap_rules(nullptr, &m); });
  }
  // nat's removal deletes the bridges-set element, and one already gone
  // (a partial cleanup) would fail the whole transaction: re-add it first.
  STACK_TRY_CTX(ensure_base(im.nft), what);
  STACK_TRY_CTX(im.nft.run("add element inet stack bridges { \"" + bridge + "\" }\n", what), what);
  STACK_TRY_CTX(net::remove_network(im.nft, name, bridge), what);
  undo.add([&] { (void)im.ensure_kernel_state(name); });
  STACK_TRY_CTX(delete_bridge(im.nl, bridge), what);
  IpamNetwork saved = *im.ipam.find(name);
  NetworkMeta saved_meta = im.meta[name];
  STACK_TRY_CTX(im.ipam.remove_network(name), what);
  im.meta.erase(name);
  im.mappings = keep;
  undo.add([&] {
    (void)im.ipam.add_network(name, saved.subnet, saved.gateway);
    im.meta[name] = saved_meta;
    im.mappings.insert(im.mappings.end(), mine.begin(), mine.end());
  });
  STACK_TRY_CTX(im.save(), what);
  undo.commit();
  return {};
}

std::optional<NetworkInfo> NetworkManager::find_network(const std::string& name) const {
  std::lock_guard lock(mu_);
  if (!impl_->ipam.find(name)) return std::nullopt;
  return impl_->info(name);
}

std::vector<NetworkInfo> NetworkManager::networks() const {
  std::lock_guard lock(mu_);
  std::vector<NetworkInfo> out;
  for (const auto& n : impl_->ipam.network_names()) out.push_back(impl_->info(n));
  return out;
}

Result<EndpointInfo> NetworkManager::connect(const EndpointRequest& req) {
  std::lock_guard lock(mu_);
  Impl& im = *impl_;
  const std::string what = "connect " + req.container_id + " to network " + req.network;
  if (req.container_id.empty()) return stack::fail(what + ": empty container id", EINVAL);
  if (!im.ipam.find(req.network)) return stack::fail(what + ": no such network", ENOENT);
  if (!valid_ifname(req.ifname)) return stack::fail(what + ": invalid interface name '" + req.ifname + "'", EINVAL);
  std::optional<IpAddr> requested;
  if (!req.ipv4_address.empty()) {
    auto a = IpAddr::parse(req.ipv4_address);
    if (!a) return tl::unexpected(a.error().wrap(what));
    requested = *a;
  }
  auto nsfd = open_netns(req.netns_path);
  if (!nsfd) return tl::unexpected(nsfd.error().wrap(what));
  auto csock = NetlinkSocket::open_in_netns(nsfd->get(), req.netns_path);
  if (!csock) return tl::unexpected(csock.error().wrap(what));

  const NetworkInfo net = im.info(req.network);
  EndpointInfo out{req.container_id, req.network, endpoint_ifname(req.container_id, req.network),
                   req.ifname, "", net.prefix, req.default_route ? net.gateway : "", ""};
  auto host = get_link(im.nl, out.host_ifname);
  if (!host) return tl::unexpected(host.error().wrap(what));
  auto prior = im.ipam.lookup(req.network, req.container_id);
  if (prior && requested && *requested != *prior)
    return stack::fail(what + ": already connected with address " + prior->str() + ", not " + requested->str(),
                    EEXIST);
  if (*host && prior) {
    // Restart-safe: the pair exists and its peer is `ifname` in this netns.
    auto peer = get_link(*csock, req.ifname);
    if (!peer) return tl::unexpected(peer.error().wrap(what));
    if (*peer && rtnl_link_get_link(host->get()) == rtnl_link_get_ifindex(peer->get())) {
      // Its bridge may have been re-made (sweep after a reboot-like loss).
      STACK_TRY_CTX(attach_to_bridge(im.nl, out.host_ifname, net.bridge), what);
      STACK_TRY_CTX(enable_hairpin(im.nl, out.host_ifname), what);
      out.address = prior->str();
      out.mac = mac_of(peer->get());
      return out;
    }
  }
  if (*host) STACK_TRY_CTX(delete_endpoint(im.nl, out.host_ifname), what + ": remove stale endpoint");

  Undo undo;
  auto addr = im.ipam.lease(req.network, req.container_id, requested);
  if (!addr) return tl::unexpected(addr.error().wrap(what));
  if (!prior) undo.add([&] { (void)im.ipam.release(req.network, req.container_id); });
  out.address = addr->str();
  EndpointSpec spec;
  spec.host_ifname = out.host_ifname;
  spec.netns_fd = nsfd->get();
  spec.netns_label = req.netns_path;
  spec.container_ifname = req.ifname;
  spec.bridge = net.bridge;
  spec.address = out.address + "/" + std::to_string(net.prefix);
  spec.gateway = out.gateway;
  spec.mtu = net.mtu;
  spec.mac_address = req.mac_address;
  spec.network = req.network;
  STACK_TRY_CTX(create_endpoint(im.nl, spec), what);
  undo.add([&] { (void)delete_endpoint(im.nl, out.host_ifname); });
  STACK_TRY_CTX(enable_hairpin(im.nl, out.host_ifname), what);
  if (req.egress_bytes_per_sec) STACK_TRY_CTX(set_egress_limit(*csock, req.ifname, req.egress_bytes_per_sec), what);
  auto peer = get_link(*csock, req.ifname);
  if (!peer) return tl::unexpected(peer.error().wrap(what));
  if (*peer) out.mac = mac_of(peer->get());
  STACK_TRY_CTX(im.save_ipam(), what);
  undo.commit();
  return out;
}

Result<void> NetworkManager::disconnect(const std::vector<std::pair<std::string, std::string>>& endpoints) {
  std::lock_guard lock(mu_);
  Impl& im = *impl_;
  const std::string what = "disconnect " + std::to_string(endpoints.size()) + " endpoints";
  std::vector<std::string> names;
  for (const auto& [cid, net] : endpoints) names.push_back(endpoint_ifname(cid, net));
  // Links first: if that fails the leases stay, so a retry finds everything.
  STACK_TRY_CTX(delete_endpoints(im.nl, names), what);
  bool changed = false;
  for (const auto& [cid, net] : endpoints) {
    if (!im.ipam.lookup(net, cid)) continue;
    STACK_TRY_CTX(im.ipam.release(net, cid), what);
    changed = true;
  }
  if (changed) STACK_TRY_CTX(im.save_ipam(), what);
  return {};
}

std::optional<std::string> NetworkManager::endpoint_address(const std::string& container_id,
                                                            const std::string& network) const {
  std::lock_guard lock(mu_);
  auto a = impl_->ipam.lookup(network, container_id);
  if (!a) return std::nullopt;
  return a->str();
}

}  // namespace stack::net
