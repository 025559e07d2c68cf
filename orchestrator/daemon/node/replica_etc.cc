#include "orchestrator/daemon/node/replica_etc.h"

#include "base/io.h"
#include "netplane/etc_files.h"

namespace stack::orch {

stack::Result<void> write_replica_etc(const ReplicaPlan& plan, const std::string& dir, const std::string& hostname,
                                    const std::vector<net::EndpointInfo>& endpoints) {
  const auto& s = plan.service;
  net::HostsSpec hs;
  hs.hostname = hostname;
  hs.domainname = s.domainname;
  hs.extra_hosts = s.extra_hosts;
  if (!endpoints.empty()) {
    hs.address = endpoints[0].address;
    hs.host_gateway = endpoints[0].gateway;
    if (plan.name != hostname) hs.aliases.push_back(plan.name);
    for (auto& al : plan.networks[0].aliases)
      if (al != hostname && al != plan.name) hs.aliases.push_back(al);
  }
  auto hosts = net::build_hosts(hs);
  if (!hosts) return tl::unexpected(hosts.error());
  net::ResolvSpec rs;
  rs.mode = plan.dns_server.empty() || endpoints.empty() ? net::ResolvMode::None : net::ResolvMode::Bridge;
  rs.gateway = plan.dns_server;
  rs.host_resolv_conf = io::read_text("/etc/resolv.conf");
  rs.dns = s.dns;
  rs.dns_search = s.dns_search;
  rs.dns_opt = s.dns_opt;
  auto resolv = net::build_resolv_conf(rs);
  if (!resolv) return tl::unexpected(resolv.error());
  auto hn = net::build_hostname(hostname);
  if (!hn) return tl::unexpected(hn.error());
  STACK_TRY(io::write_file_atomic(dir + "/hosts", *hosts));
  STACK_TRY(io::write_file_atomic(dir + "/resolv.conf", *resolv));
  STACK_TRY(io::write_file_atomic(dir + "/hostname", *hn));
  return {};
}

stack::Result<void> copy_network_files(const std::string& from_dir, const std::string& to_dir) {
  for (const char* f : {"hosts", "resolv.conf"}) {
    auto text = io::read_file(from_dir + "/" + f);
    if (!text) return tl::unexpected(text.error().wrap("the joined container's /etc/" + std::string(f)));
    STACK_TRY(io::write_file_atomic(to_dir + "/" + f, *text));
  }
  return {};
}

}  // namespace stack::orch
