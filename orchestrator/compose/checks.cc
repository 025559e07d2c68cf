#include "orchestrator/compose/checks.h"

#include <map>

#include "base/graph.h"
#include "orchestrator/compose/normalize.h"

namespace stack::compose {

namespace {

// The mark of the deepest node along `keys` that exists.
Mark locate(const Node& doc, std::initializer_list<std::string> keys) {
  const Node* cur = &doc;
  Mark m = doc.mark;
  for (auto& k : keys) {
    const Node* next = nullptr;
    if (cur->is_map())
      for (auto& e : cur->entries)
        if (e.key == k) {
          next = &e.value;
          m = e.mark;
        }
    if (!next) break;
    cur = next;
  }
  return m;
}

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

}  // namespace

stack::Result<void> check_project(Project& project, const Node& doc, const std::set<std::string>& disabled,
                               std::vector<Warning>& warnings) {
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
    if (!nm.empty()) {
      Mark m = locate(doc, {"services", name, "network_mode"});
      std::string path = base + ".network_mode";
      if (nm.rfind("service:", 0) == 0) {
        std::string target = nm.substr(8);
        if (!project.services.count(target))
          return fail_at(m, path, "service \"" + target + "\" is not defined" +
                                      (disabled.count(target) ? " (not enabled by the selected profiles)" : ""));
      } else if (nm.rfind("container:", 0) != 0 && nm != "none" && nm != "host" && nm != "bridge") {
        return fail_at(m, path, "invalid network_mode \"" + nm + "\" (none, host, bridge, service:NAME, container:NAME)");
      }
    }
    if (s.replicas < 0)
      return fail_at(locate(doc, {"services", name, "deploy", "replicas"}), base + ".replicas", "must not be negative");
    if (!s.container_name.empty() && s.replicas > 1)
      return fail_at(locate(doc, {"services", name, "container_name"}), base + ".container_name",
                     "container_name \"" + s.container_name + "\" cannot be used with " + std::to_string(s.replicas) +
                         " replicas (container names are unique)");
  }
  return {};
}

}  // namespace stack::compose
