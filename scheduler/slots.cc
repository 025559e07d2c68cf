#include "scheduler/slots.h"

#include <algorithm>
#include <set>

namespace stack::sched {

std::vector<SlotTarget> target_slots(const ServiceSpec& service, const SlotMap& current,
                                     const std::vector<NodeInfo>* nodes) {
  std::vector<SlotTarget> out;
  if (!service.global()) {
    for (int slot = 1; slot <= service.replicas; slot++) out.push_back({slot, ""});
    return out;
  }
  if (!nodes || nodes->empty()) return {{1, ""}};
  // The slot each node holds: its current task's (the lowest, should a node
  // hold two after a move).
  std::map<std::string, int> held;
  std::set<int> taken;
  for (const auto& [slot, r] : current) {
    if (r->state == ReplicaState::Removed) continue;
    taken.insert(slot);
    if (r->node.empty()) continue;
    auto [it, fresh] = held.emplace(r->node, slot);
    if (!fresh) it->second = std::min(it->second, slot);
  }
  std::vector<const NodeInfo*> sorted;
  for (const NodeInfo& n : *nodes) sorted.push_back(&n);
  std::sort(sorted.begin(), sorted.end(), [](const NodeInfo* a, const NodeInfo* b) { return a->id < b->id; });
  int next = 1;
  for (const NodeInfo* n : sorted) {
    auto h = held.find(n->id);
    bool has = h != held.end();
    if (has && service.job() && !n->ready && job_complete(service, *current.at(h->second))) {
      out.push_back({h->second, n->id});  // ran to completion there
      continue;
    }
    if (!n->ready || n->drain || !meets_constraints(service, *n)) continue;
    if (has) {
      out.push_back({h->second, n->id});
      continue;
    }
    if (!n->active) continue;
    while (taken.count(next)) next++;
    taken.insert(next);
    out.push_back({next, n->id});
  }
  std::sort(out.begin(), out.end(), [](const SlotTarget& a, const SlotTarget& b) { return a.slot < b.slot; });
  return out;
}

}  // namespace stack::sched
