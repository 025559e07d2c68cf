// What one incarnation of a replica is made of (ReplicaPlan) and the names
// and signals the supervisor derives from the compose model. Pure.
#include <csignal>
#include <cstring>

#include "orchestrator/daemon/engine/supervisor.h"
#include "runtime/kernel/signals.h"

namespace stack::orch {

std::string replica_name(const compose::Project& project, const compose::Service& service, int slot) {
  if (!service.container_name.empty())
    return slot == 1 ? service.container_name : service.container_name + "-" + std::to_string(slot);
  return project.name + "-" + service.name + "-" + std::to_string(slot);
}

int signal_number(const std::string& name) {
  auto n = rt::parse_signal(name);  // the one parser; stop signals were checked when the stack was loaded
  return n ? *n : 0;
}

ReplicaPlan make_plan(const compose::Project& project, const std::string& service, int slot, const std::string& id,
                      const std::map<std::string, net::NetworkInfo>& networks, const std::string& volume_root) {
  const compose::Service& s = project.services.at(service);
  ReplicaPlan p;
  p.id = id;
  p.name = replica_name(project, s, slot);
  p.stack = project.name;
  p.slot = slot;
  p.service_key = service;
  p.service = ReplicaSpec(s);
  p.project_dir = project.working_dir;
  // stackd checked every service's files when the project came in
  // (http_routes.cc up), so this cannot fail for a project it runs.
  if (auto files = compose::service_files(project, s)) p.files = std::move(*files);
  for (const auto& m : s.volumes)
    if (m.type == "volume" && !m.source.empty()) p.volume_dirs[m.source] = volume_dir(project, m.source, volume_root);
  for (const auto& key : ordered_networks(s)) {
    auto it = networks.find(key);
    if (it == networks.end()) continue;
    NetworkAttachment a;
    a.network = it->second;
    a.aliases = s.networks.at(key).aliases;
    a.ipv4_address = s.networks.at(key).ipv4_address;
    p.networks.push_back(std::move(a));
  }
  if (!p.networks.empty()) p.dns_server = p.networks.front().network.gateway;
  p.labels = {{"com.stack.project", project.name},
              {"com.stack.service", service},
              {"com.stack.slot", std::to_string(slot)},
              {"com.stack.name", p.name}};
  return p;
}

std::string volume_dir(const compose::Project& project, const std::string& key, const std::string& volume_root) {
  auto it = project.volumes.find(key);
  if (it != project.volumes.end() && it->second.external)
    return volume_root + "/" + (it->second.external_name.empty() ? key : it->second.external_name);
  return volume_root + "/" + project.name + "_" + key;
}

}  // namespace stack::orch
