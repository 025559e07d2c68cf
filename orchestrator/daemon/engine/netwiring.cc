#include "orchestrator/daemon/engine/netwiring.h"

#include <algorithm>
#include <cerrno>

namespace stack::orch {
namespace {

bool used_by_services(const compose::Project& p, const std::string& key) {
  for (const auto& [_, s] : p.services)
    if (s.networks.count(key)) return true;
  return false;
}

unsigned mtu_of(const compose::NetworkDef& def) {
  auto it = def.driver_opts.find("com.docker.network.driver.mtu");
  if (it == def.driver_opts.end()) return 1500;
  try {
    return static_cast<unsigned>(std::stoul(it->second));
  } catch (...) {
    return 1500;
  }
}

std::string port_text(const PublishedPort& p) {
  const std::string& ip = p.mapping.host_ip;
  std::string host = ip.empty() ? "" : (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":";
  return host + std::to_string(p.mapping.host_port) + "/" + p.mapping.protocol;
}

}  // namespace

std::string network_name(const compose::Project& project, const std::string& key) {
  auto it = project.networks.find(key);
  if (it != project.networks.end() && it->second.external)
    return it->second.external_name.empty() ? key : it->second.external_name;
  return project.name + "_" + key;
}

std::vector<PublishedPort> published_ports(const compose::Project& project) {
  std::vector<PublishedPort> out;
  for (const auto& [name, s] : project.services) {
    auto nets = ordered_networks(s);
    if (nets.empty()) continue;  // network_mode none/host: nothing to forward to
    for (const auto& p : s.ports) {
      if (p.published == 0) continue;
      PublishedPort pp;
      pp.service = name;
      pp.port = p;
      pp.mapping.network = network_name(project, nets.front());
      pp.mapping.host_ip = p.host_ip;
      pp.mapping.host_port = p.published;
      pp.mapping.host_port_end = p.published_end == p.published ? 0 : p.published_end;
      pp.mapping.protocol = p.protocol.empty() ? "tcp" : p.protocol;
      out.push_back(std::move(pp));
    }
  }
  return out;
}

std::vector<std::string> dns_names(const compose::Project& project, const compose::Service& service, int slot,
                                   const std::string& replica_name, const std::string& key) {
  std::vector<std::string> names{service.name, service.name + "." + project.name, replica_name,
                                 std::to_string(slot) + "." + service.name};
  std::string default_name = project.name + "-" + service.name + "-" + std::to_string(slot);
  if (replica_name != default_name) names.push_back(default_name);
  if (!service.container_name.empty()) names.push_back(service.container_name);
  if (auto it = service.networks.find(key); it != service.networks.end())
    for (const auto& a : it->second.aliases) names.push_back(a);
  // Links of the services on this network: Docker scopes a link's alias to
  // the linking container; here every member of the network sees it.
  for (const auto& [_, other] : project.services)
    if (other.networks.count(key))
      for (const auto& link : other.links)
        if (auto [target, alias] = compose::split_link(link); target == service.name) names.push_back(alias);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

stack::Result<std::map<std::string, net::NetworkInfo>> NetWiring::ensure_networks(const compose::Project& project,
                                                                               std::vector<std::string>* created) {
  std::map<std::string, net::NetworkInfo> out;
  for (const auto& [key, def] : project.networks) {
    if (!used_by_services(project, key)) continue;
    std::string name = network_name(project, key);
    if (def.external) {
      auto info = nm_.find_network(name);
      if (!info) return stack::fail("networks." + key + ": external network \"" + name + "\" does not exist", ENOENT);
      out[key] = *info;
    } else {
      bool existed = nm_.find_network(name).has_value();
      net::NetworkConfig cfg;
      cfg.name = name;
      if (!def.subnets.empty()) cfg.subnet = def.subnets.front();
      if (!def.gateways.empty()) cfg.gateway = def.gateways.front();
      cfg.internal = def.internal;
      cfg.mtu = mtu_of(def);
      auto info = nm_.create_network(cfg);
      if (!info) return tl::unexpected(info.error().wrap("networks." + key));
      if (!existed && created) created->push_back(name);
      out[key] = *info;
    }
    auto d = dns_.add_network(out[key].name, out[key].gateway);
    if (!d) return tl::unexpected(d.error().wrap("networks." + key + ": dns on " + out[key].gateway));
  }
  // A service naming a network the project does not define (the loader
  // normally rejects it) gets a clear error rather than a missing eth0.
  for (const auto& [sname, s] : project.services)
    for (const auto& [key, _] : s.networks)
      if (!out.count(key)) return stack::fail("services." + sname + ".networks: undefined network \"" + key + "\"");
  return out;
}

void NetWiring::remove_network_names(const std::vector<std::string>& names) {
  for (const auto& n : names) {
    dns_.remove_network(n);
    (void)nm_.remove_network(n);
  }
}

stack::Result<void> NetWiring::remove_networks(const compose::Project& project) {
  std::optional<stack::Error> first;
  for (const auto& [key, def] : project.networks) {
    if (def.external) continue;
    std::string name = network_name(project, key);
    dns_.remove_network(name);
    auto r = nm_.remove_network(name);
    if (!r && !first) first = r.error().wrap("remove network " + name);
  }
  if (first) return tl::unexpected(*first);
  return {};
}

stack::Result<void> NetWiring::check_ports(const compose::Project& project) {
  std::set<std::string> ours;
  {
    std::lock_guard lock(mu_);
    if (auto it = stacks_.find(project.name); it != stacks_.end())
      for (const auto& [tag, _] : it->second.ports) ours.insert(tag);
  }
  std::set<std::string> seen;
  for (const auto& p : published_ports(project)) {
    std::string tag = net::mapping_tag(p.mapping);
    uint16_t end = p.mapping.host_port_end ? p.mapping.host_port_end : p.mapping.host_port;
    std::string what = "services." + p.service + ".ports: " + port_text(p);
    for (uint32_t port = p.mapping.host_port; port <= end; port++) {
      std::string key = p.mapping.host_ip + ":" + std::to_string(port) + "/" + p.mapping.protocol;
      if (!seen.insert(key).second) return stack::fail(what + ": published twice in this stack", EADDRINUSE);
    }
    if (ours.count(tag)) continue;
    for (uint32_t port = p.mapping.host_port; port <= end; port++) {
      auto used = nm_.port_in_use(p.mapping.host_ip, static_cast<uint16_t>(port), p.mapping.protocol);
      if (!used) return tl::unexpected(used.error().wrap(what));
      if (*used) return stack::fail(what + ": port " + std::to_string(port) + " is already in use", EADDRINUSE);
    }
  }
  return {};
}

stack::Result<void> NetWiring::publish(const compose::Project& project) {
  std::lock_guard lock(mu_);
  StackWiring& w = stacks_[project.name];
  std::map<std::string, PublishedPort> wanted;
  for (auto& p : published_ports(project)) wanted.emplace(net::mapping_tag(p.mapping), std::move(p));
  for (auto it = w.ports.begin(); it != w.ports.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    if (it->second.live) (void)nm_.unpublish(it->second.mapping);
    it = w.ports.erase(it);
  }
  // New mappings are reserved at once with no backends (network_manager.h):
  // the port is ours from `up` on, even before a replica is healthy.
  for (auto& [tag, p] : wanted) {
    if (w.ports.count(tag)) continue;
    p.mapping.backends.clear();
    auto r = nm_.publish(p.mapping);
    if (!r && r.error().code != EEXIST)  // EEXIST: left by a previous daemon; sync() updates it
      return tl::unexpected(r.error());
    p.live = true;
    w.ports.emplace(tag, p);
  }
  return {};
}

void NetWiring::unpublish_all(const std::string& stack) {
  std::lock_guard lock(mu_);
  auto it = stacks_.find(stack);
  if (it == stacks_.end()) return;
  // Not only the live ones: a mapping a previous daemon left is ours too.
  for (auto& [_, p] : it->second.ports) (void)nm_.unpublish(p.mapping);
  it->second.ports.clear();
}

std::vector<PublishedPort> NetWiring::ports_of(const std::string& stack) const {
  std::lock_guard lock(mu_);
  std::vector<PublishedPort> out;
  if (auto it = stacks_.find(stack); it != stacks_.end())
    for (const auto& [_, p] : it->second.ports) out.push_back(p);
  return out;
}

void NetWiring::sync(const compose::Project& project, const std::vector<WiredReplica>& replicas) {
  std::lock_guard lock(mu_);
  StackWiring& w = stacks_[project.name];
  // DNS: one record per (replica endpoint, network) while the replica is in DNS.
  std::set<std::string> keys;
  for (const auto& r : replicas) {
    auto sit = project.services.find(r.service);
    if (!r.in_dns || sit == project.services.end()) continue;
    for (const auto& key : ordered_networks(sit->second)) {
      std::string net_name = network_name(project, key);
      auto addr = r.addresses.find(net_name);
      if (addr == r.addresses.end() || addr->second.empty()) continue;
      net::DnsRecord rec;
      rec.key = r.container_id + "/" + net_name;
      rec.network = net_name;
      rec.names = dns_names(project, sit->second, r.slot, r.name, key);
      rec.ipv4 = addr->second;
      dns_.upsert(rec);  // replaces in place: cheap, and keeps names current after a re-up
      keys.insert(rec.key);
    }
  }
  for (const auto& k : w.dns_keys)
    if (!keys.count(k)) dns_.remove(k);
  w.dns_keys = std::move(keys);

  // Port backends: only mappings whose replica set changed are rewritten.
  for (auto& [tag, p] : w.ports) {
    std::vector<net::Backend> backends;
    for (const auto& r : replicas) {
      if (r.service != p.service || !r.in_pool) continue;
      auto addr = r.addresses.find(p.mapping.network);
      if (addr == r.addresses.end() || addr->second.empty()) continue;
      backends.push_back({addr->second, p.port.target});
    }
    std::sort(backends.begin(), backends.end(),
              [](const net::Backend& a, const net::Backend& b) { return a.ip < b.ip; });
    bool same = backends.size() == p.mapping.backends.size() &&
                std::equal(backends.begin(), backends.end(), p.mapping.backends.begin(),
                           [](const net::Backend& a, const net::Backend& b) { return a.ip == b.ip && a.port == b.port; });
    if (same && p.live) continue;
    net::PortMapping m = p.mapping;
    m.backends = backends;
    // An empty set keeps the reservation (no rule). Not live: publish, else
    // (a mapping the previous daemon left) update; and the other way round.
    auto r = p.live ? nm_.update_backends(m) : nm_.publish(m);
    if (!r) r = p.live ? nm_.publish(m) : nm_.update_backends(m);
    if (!r) continue;  // keep the old state; the next change retries
    p.live = true;
    p.mapping.backends = std::move(backends);
  }
}

void NetWiring::forget_dns(const std::string& stack) {
  std::lock_guard lock(mu_);
  auto it = stacks_.find(stack);
  if (it == stacks_.end()) return;
  for (const auto& k : it->second.dns_keys) dns_.remove(k);
  stacks_.erase(it);
}

}  // namespace stack::orch
