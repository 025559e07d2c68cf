#include "orchestrator/daemon/cluster/single_node_adoption.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "orchestrator/compose/loader.h"
#include "orchestrator/daemon/cluster/assignment.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/engine/netwiring.h"
#include "orchestrator/daemon/engine/replica_store.h"
#include "orchestrator/daemon/engine/supervisor.h"

namespace stack::orch {

stack::Result<int> adopt_single_node_replicas(StateStore& cluster, const std::string& self, LocalNode& node,
                                              net::NetworkManager& networks, const std::string& volume_root) {
  auto stacks = cluster.list("stacks/");
  if (!stacks) return tl::unexpected(stacks.error().wrap("adopt: read stacks"));
  int adopted = 0;
  for (const auto& [key, value] : *stacks) {
    auto j = nlohmann::json::parse(value, nullptr, false);
    if (!j.is_object() || !j.contains("project")) continue;  // restore() names it
    auto project = compose::project_from_json(j["project"].dump());
    if (!project) continue;
    auto records = load_replicas(cluster, project->name);
    if (!records) return tl::unexpected(records.error());
    std::shared_ptr<const PlanSource> source;
    for (auto& rec : *records) {
      if (rec.status.node != kLocalNodeId && !rec.status.node.empty()) continue;
      const std::string id = rec.status.container_id;
      rec.status.node = self;
      if (!id.empty() && project->services.count(rec.status.service)) {
        if (!source) {
          std::map<std::string, net::NetworkInfo> nets;
          for (const auto& [k, _] : project->networks)
            if (auto info = networks.find_network(network_name(*project, k))) nets[k] = *info;
          source = std::make_shared<const PlanSource>(PlanSource{*project, std::move(nets)});
        }
        ReplicaPlan plan = make_plan(source->project, rec.status.service, rec.status.slot, id, source->networks,
                                     volume_root);
        plan.source = source;
        TaskReport report;
        auto facts = node.reattach(id);
        if (facts && *facts) {
          report.runtime = **facts;
          report.state = (*facts)->running ? TaskReport::State::Running : TaskReport::State::Exited;
        } else {
          report.state = TaskReport::State::Exited;
          report.exit.exit_code = 255;
          report.error = "its container is gone";
        }
        const SourceText text = source_text(plan);
        STACK_TRY_CTX(cluster.commit({StoreOp{StoreOp::Put, text.key, *text.body, 0},
                                      StoreOp{StoreOp::Put, cluster_keys::assign(self) + id, assignment_to_json(plan), 0},
                                      StoreOp{StoreOp::Put, cluster_keys::tasks(self) + id, report_to_json(report), 0}}),
                      "adopt " + rec.name);
      }
      STACK_TRY_CTX(save_replica(cluster, rec), "adopt " + rec.name);
      adopted++;
    }
  }
  if (adopted) spdlog::info("cluster: node {} adopted {} replica(s) it ran before joining", self, adopted);
  return adopted;
}

}  // namespace stack::orch
