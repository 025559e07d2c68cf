#include "orchestrator/compose/checks.h"

#include <map>

#include "base/graph.h"
#include "orchestrator/compose/normalize.h"

namespace stack::compose {

namespace {

stack::Result<void> check_dependencies(Project& project, const Node& doc, const std::set<std::string>& disabled,
                                    std::vector<Warning>& warnings) {
  for (auto& [name, s] : project.services) {
    for (auto it = s.depends_on.begin(); it != s.depends_on.end();) {
      const std::string& dep = it->first;
      std::string path = "services." + name + ".depends_on." + dep;
      Mark m = locate(doc, {"services", name, "depends_on", dep});
      if (project.services.count(dep)) {
        if (dep == name) return fail_at(m, path, "service \"" + name + "\" depends on itself");
        ++it;
        continue;
      }
      std::string why = disabled.count(dep) ? "service \"" + dep + "\" is not enabled by the selected profiles"
                                            : "service \"" + dep + "\" is not defined";
      if (!it->second.required) {
        add_warning(warnings, m, path, why + "; optional dependency ignored");
        it = s.depends_on.erase(it);
        continue;
      }
      return fail_at(m, path, why);
    }
  }
  graph::Edges edges;
  for (const auto& [name, s] : project.services)
    for (const auto& [dep, _] : s.depends_on) edges[name].insert(dep);
  for (const auto& [name, _] : project.services) edges[name];
  std::vector<std::string> cycle = graph::find_cycle(edges);
  if (cycle.empty()) return {};
  // Reported at the edge that closes it.
  const std::string& from = cycle[cycle.size() - 2];
  return fail_at(locate(doc, {"services", from, "depends_on", cycle.back()}), "services." + from + ".depends_on",
                 "dependency cycle: " + graph::cycle_text(cycle));
}

// Docker's rules for a fixed MAC: a bridge network to carry it, one
// replica (two interfaces with one address on a bridge break both), and
// the service-level form (the first network's) agreeing with a network's.
stack::Result<void> check_mac_addresses(const Node& doc, const std::string& name, const Service& s) {
  struct Fixed {
    std::string path, mac;
    Mark mark;
  };
  const std::string base = "services." + name;
  std::vector<Fixed> fixed;
  if (!s.mac_address.empty())
    fixed.push_back({base + ".mac_address", s.mac_address, locate(doc, {"services", name, "mac_address"})});
  for (const auto& [net, sn] : s.networks)
    if (!sn.mac_address.empty())
      fixed.push_back({base + ".networks." + net + ".mac_address", sn.mac_address,
                       locate(doc, {"services", name, "networks", net, "mac_address"})});
  if (fixed.empty()) return {};
  const Fixed& first = fixed.front();
  if (!s.network_mode.empty() && s.network_mode != "bridge")
    return fail_at(first.mark, first.path,
                   "a MAC address needs a network of the service's own (network_mode is \"" + s.network_mode + "\")");
  if (s.replicas > 1)
    return fail_at(first.mark, first.path, "MAC address " + first.mac + " cannot be used with " +
                                               std::to_string(s.replicas) + " replicas (each would have it)");
  // The service-level address is the first network's (Compose's rule).
  if (!s.mac_address.empty() && !s.networks.empty()) {
    const std::string net = ordered_networks(s).front();
    const std::string& own = s.networks.at(net).mac_address;
    if (!own.empty() && own != s.mac_address)
      return fail_at(locate(doc, {"services", name, "networks", net, "mac_address"}),
                     base + ".networks." + net + ".mac_address",
                     "differs from " + first.path + " (" + s.mac_address + "), which is this first network's");
  }
  return {};
}

}  // namespace

stack::Result<void> check_project(Project& project, const Node& doc, const std::set<std::string>& disabled,
                               std::vector<Warning>& warnings) {
  // Before the dependencies, which links, volumes_from and service:NAME
  // joins became (normalize_service).
  auto undefined = [&](const std::string& target) {
    return "service \"" + target + "\" is not defined" +
           (disabled.count(target) ? " (not enabled by the selected profiles)" : "");
  };
  for (const auto& [name, s] : project.services)
    for (const auto& [field, mode] : std::vector<std::pair<std::string, std::string>>{
             {"network_mode", s.network_mode}, {"pid", s.pid}, {"ipc", s.ipc}}) {
      if (mode.rfind("service:", 0) != 0) continue;
      const std::string target = mode.substr(8), path = "services." + name + "." + field;
      const Mark m = locate(doc, {"services", name, field});
      if (!project.services.count(target))
        return fail_at(m, path, undefined(target));
      if (target == name) return fail_at(m, path, "a service cannot join its own namespace");
    }
  for (const auto& [name, s] : project.services)
    for (const auto& from : s.volumes_from) {
      auto f = parse_volumes_from(from);
      if (!f) continue;  // normalize_service refused it
      const Mark m = locate(doc, {"services", name, "volumes_from"});
      const std::string path = "services." + name + ".volumes_from";
      if (!f->container && !project.services.count(f->name))
        return fail_at(m, path, undefined(f->name));
      if (f->container && !service_with_container_name(project, f->name))
        return fail_at(m, path, "container \"" + f->name + "\": stack shares the volumes of a container_name " +
                                    "of this file only (or name its service)");
    }
  for (const auto& [name, s] : project.services)
    for (size_t i = 0; i < s.links.size(); i++) {
      const std::string target = split_link(s.links[i]).first;
      if (!project.services.count(target))
        return fail_at(locate(doc, {"services", name, "links"}), "services." + name + ".links", undefined(target));
    }
  STACK_TRY(check_dependencies(project, doc, disabled, warnings));
  for (auto& [name, s] : project.services) {
    std::string base = "services." + name;
    for (auto& [net, sn] : s.networks)
      if (!project.networks.count(net))
        return fail_at(locate(doc, {"services", name, "networks", net}), base + ".networks." + net,
                       "network \"" + net + "\" is not declared in the top-level networks");
    for (size_t i = 0; i < s.volumes.size(); ++i) {
      const Mount& m = s.volumes[i];
      if (m.type == "volume" && !m.source.empty() && !project.volumes.count(m.source))
        return fail_at(locate(doc, {"services", name, "volumes"}), base + ".volumes",
                       "volume \"" + m.source + "\" is not declared in the top-level volumes");
    }
    const std::string& nm = s.network_mode;
    if (!nm.empty() && nm.rfind("service:", 0) != 0 && nm.rfind("container:", 0) != 0 && nm != "none" &&
        nm != "host" && nm != "bridge")
      return fail_at(locate(doc, {"services", name, "network_mode"}), base + ".network_mode",
                     "invalid network_mode \"" + nm + "\" (none, host, bridge, service:NAME, container:NAME)");
    // Joins of another replica's namespaces: a service of the file (which
    // became a dependency), or container:NAME, which a container_name of
    // the file names (a dependency too) or else the node resolves.
    for (const std::string* mode : {&s.network_mode, &s.pid, &s.ipc})
      if (mode->rfind("container:", 0) == 0)
        if (const std::string* other = service_with_container_name(project, mode->substr(10)); other && *other != name)
          s.depends_on.emplace(*other, Dependency{});
    if ((nm.rfind("service:", 0) == 0 || nm.rfind("container:", 0) == 0) && !s.ports.empty())
      return fail_at(locate(doc, {"services", name, "ports"}), base + ".ports",
                     "ports cannot be published with network_mode " + nm + ": the replica has that one's network");
    if (s.replicas < 0)
      return fail_at(locate(doc, {"services", name, "deploy", "replicas"}), base + ".replicas", "must not be negative");
    STACK_TRY(check_mac_addresses(doc, name, s));
    if (s.autoscale && s.autoscale->memory && !s.mem_limit)
      return fail_at(locate(doc, {"services", name, "x-autoscale", "memory"}), base + ".x-autoscale.memory",
                     "a memory target is a share of the memory limit: set mem_limit or "
                     "deploy.resources.limits.memory");
    if (s.autoscale && !s.container_name.empty())
      return fail_at(locate(doc, {"services", name, "x-autoscale"}), base + ".x-autoscale",
                     "cannot be used with container_name (container names are unique)");
    if (!s.container_name.empty() && s.replicas > 1)
      return fail_at(locate(doc, {"services", name, "container_name"}), base + ".container_name",
                     "container_name \"" + s.container_name + "\" cannot be used with " + std::to_string(s.replicas) +
                         " replicas (container names are unique)");
  }
  return {};
}

}  // namespace stack::compose
