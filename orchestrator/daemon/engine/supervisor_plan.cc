// What one incarnation of a replica is made of (ReplicaPlan) and the names
// and signals the supervisor derives from the compose model. Pure.
#include <csignal>
#include <cstring>
#include <optional>

#include "orchestrator/compose/normalize.h"
#include "orchestrator/daemon/engine/supervisor.h"
#include "runtime/kernel/signals.h"

namespace stack::orch {

std::string replica_name(const compose::Project& project, const compose::Service& service, int slot) {
  if (!service.container_name.empty())
    return slot == 1 ? service.container_name : service.container_name + "-" + std::to_string(slot);
  return project.name + "-" + service.name + "-" + std::to_string(slot);
}

namespace {

// The service and slot whose replica a volumes_from entry names: a service
// (its first replica), or container:NAME, a container_name of the file
// (the loader allows no other).
std::optional<std::pair<const compose::Service*, int>> volumes_source(const compose::Project& project,
                                                                     const compose::VolumesFrom& from) {
  const std::string* name = from.container ? compose::service_with_container_name(project, from.name) : &from.name;
  auto it = name ? project.services.find(*name) : project.services.end();
  if (it == project.services.end()) return std::nullopt;
  return std::make_pair(&it->second, 1);
}

// The volume and bind mounts of a replica of `source` (slot `slot`), each as
// a bind of its host dir, for another service to share (volumes_from).
std::vector<compose::Mount> shared_mounts(const compose::Project& project, const compose::Service& source, int slot,
                                          std::optional<bool> read_only, const std::string& volume_root) {
  std::vector<compose::Mount> out;
  for (const auto& m : source.volumes) {
    compose::Mount b = m;
    b.type = "bind";
    if (m.type == "volume" && m.source.empty())
      b.source = anonymous_volume_dir(anonymous_slot_dir(volume_root, project.name, source.name, slot), m.target);
    else if (m.type == "volume")
      b.source = volume_dir(project, m.source, volume_root);
    else if (m.type != "bind")
      continue;  // tmpfs: the source's own, as Docker keeps it
    // (A bind keeps its source: the spec builder resolves it in the same project dir.)
    b.create_host_path = true;  // the source may not have started yet
    if (read_only) b.read_only = *read_only;
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

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
  p.anonymous_dir = anonymous_slot_dir(volume_root, project.name, service, slot);
  for (const auto& entry : s.volumes_from) {
    auto from = compose::parse_volumes_from(entry);  // the loader checked it and its source
    if (!from) continue;
    if (auto src = volumes_source(project, *from))
      for (auto& m : shared_mounts(project, *src->first, src->second, from->read_only, volume_root)) {
        bool own = false;  // the service's own mount at a target wins, as in Docker
        for (const auto& o : p.service.volumes) own = own || o.target == m.target;
        if (!own) p.service.volumes.push_back(std::move(m));
      }
  }
  for (const auto& key : ordered_networks(s)) {
    auto it = networks.find(key);
    if (it == networks.end()) continue;
    NetworkAttachment a;
    a.network = it->second;
    a.aliases = s.networks.at(key).aliases;
    a.ipv4_address = s.networks.at(key).ipv4_address;
    a.mac_address = s.networks.at(key).mac_address;
    // Compose's service-level form is the first network's.
    if (p.networks.empty() && a.mac_address.empty()) a.mac_address = s.mac_address;
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
