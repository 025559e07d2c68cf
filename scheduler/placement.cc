// Placement: feasibility, then rank.
//
// Feasible: the node is ready, its free cpus / memory / gpus cover the
// reservations (gpus -1 = "all": the node has at least one and none is in
// use) and every constraint holds. Constraints, as Swarm writes them:
//   node.id==X  node.hostname==X  node.role==manager  node.platform.os==linux
//   node.platform.arch==amd64  node.labels.KEY==VALUE   (and != for each)
// A constraint that does not parse rejects every node, naming itself.
//
// max_replicas_per_node: a node that has that many of the service's
// replicas already is not feasible.
//
// Rank: first the spread preferences, in order (Swarm's): the node whose
// value of the label (nodes without it form one group) has the fewest of the
// service's replicas, counted over every node of that value. Then Nomad's
// bin-pack: the node that would be the most utilised after
// placing the replica wins (utilisation: the mean over cpu and memory of
// used/capacity, dimensions without capacity left out); ties go to the node
// with fewer replicas of the same service (spread), then to the smaller id.
#include "scheduler/placement.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace stack::sched {

namespace {

struct Constraint {
  std::string attribute;  // "id", "hostname", "labels.KEY"
  bool equal = true;
  std::string value;
};

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return c != ' ' && c != '\t'; };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// "node.labels.gpu == true" -> {labels.gpu, ==, true}; nullopt when malformed.
std::optional<Constraint> parse_constraint(const std::string& text) {
  Constraint c;
  size_t op = text.find("==");
  size_t ne = text.find("!=");
  if (ne != std::string::npos && (op == std::string::npos || ne < op)) {
    op = ne;
    c.equal = false;
  }
  if (op == std::string::npos) return std::nullopt;
  std::string lhs = trim(text.substr(0, op));
  c.value = trim(text.substr(op + 2));
  if (lhs.rfind("node.", 0) != 0) return std::nullopt;
  c.attribute = lhs.substr(5);
  bool known = c.attribute == "id" || c.attribute == "hostname" || c.attribute == "role" ||
               c.attribute == "platform.os" || c.attribute == "platform.arch" ||
               (c.attribute.rfind("labels.", 0) == 0 && c.attribute.size() > 7);
  if (!known) return std::nullopt;
  return c;
}

// The node's value of a constraint attribute; nullopt when the label is unset.
std::optional<std::string> attribute_of(const NodeInfo& node, const std::string& attribute) {
  if (attribute == "id") return node.id;
  if (attribute == "hostname") return node.hostname;
  if (attribute == "role") return node.role;
  if (attribute == "platform.os") return node.os;
  if (attribute == "platform.arch") return node.arch;
  auto it = node.labels.find(attribute.substr(7));
  if (it == node.labels.end()) return std::nullopt;
  return it->second;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string mib(uint64_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

int replicas_of(const NodeInfo& node, const std::string& service) {
  auto it = node.replicas_of_service.find(service);
  return it == node.replicas_of_service.end() ? 0 : it->second;
}

// The checks of a node's room, one home for rejections() (which names what
// fails) and fits() (placement's fast path, which only asks).
bool cpus_fit(const Requirements& req, const NodeInfo& node) {
  return req.cpus <= 0 || node.cpus - node.cpus_used + 1e-9 >= req.cpus;
}
bool memory_fit(const Requirements& req, const NodeInfo& node) {
  return req.memory == 0 || (node.memory > node.memory_used ? node.memory - node.memory_used : 0) >= req.memory;
}
bool gpus_fit(const Requirements& req, const NodeInfo& node) {
  if (req.gpus == -1) return node.gpus > 0 && node.gpus_used == 0;
  return req.gpus <= 0 || std::max<int64_t>(node.gpus - node.gpus_used, 0) >= req.gpus;
}
bool under_max(const Requirements& req, int replicas_there) {
  return req.max_per_node <= 0 || replicas_there < req.max_per_node;
}

// Why `node` cannot take a replica of `service`; empty when it can.
std::vector<std::string> rejections(const ServiceSpec& service,
                                    const std::vector<Constraint>& constraints,
                                    const NodeInfo& node) {
  std::vector<std::string> why;
  const Requirements& req = service.requirements;
  if (!node.ready) why.push_back("not ready");
  else if (!node.active) why.push_back("not active (drain or pause)");
  if (!cpus_fit(req, node))
    why.push_back(number(std::max(node.cpus - node.cpus_used, 0.0)) + " of " + number(req.cpus) + " cpus free");
  if (!memory_fit(req, node))
    why.push_back(mib(node.memory > node.memory_used ? node.memory - node.memory_used : 0) + " of " +
                  mib(req.memory) + " memory free");
  if (!gpus_fit(req, node)) {
    int64_t gpus_free = std::max<int64_t>(node.gpus - node.gpus_used, 0);
    if (req.gpus == -1)
      why.push_back(node.gpus == 0 ? std::string("no gpu (all requested)")
                                   : std::to_string(gpus_free) + " of " + std::to_string(node.gpus) +
                                         " gpus free (all requested)");
    else
      why.push_back(std::to_string(gpus_free) + " of " + std::to_string(req.gpus) + " gpu" +
                    (req.gpus == 1 ? "" : "s") + " free");
  }
  if (!under_max(req, replicas_of(node, service.name)))
    why.push_back("max_replicas_per_node " + std::to_string(req.max_per_node) + " reached");
  for (const Constraint& c : constraints) {
    auto have = attribute_of(node, c.attribute);
    bool holds = c.equal ? (have && *have == c.value) : (!have || *have != c.value);
    if (!holds)
      why.push_back("node." + c.attribute + (c.equal ? "==" : "!=") + c.value + " (has " +
                    (have ? *have : std::string("no such label")) + ")");
  }
  return why;
}

double utilisation_after(const ServiceSpec& service, const NodeInfo& node) {
  double sum = 0;
  int dims = 0;
  if (node.cpus > 0) {
    sum += (node.cpus_used + service.requirements.cpus) / node.cpus;
    dims++;
  }
  if (node.memory > 0) {
    sum += static_cast<double>(node.memory_used + service.requirements.memory) /
           static_cast<double>(node.memory);
    dims++;
  }
  return dims ? sum / dims : 0;
}


}  // namespace

bool meets_constraints(const ServiceSpec& service, const NodeInfo& node) {
  for (const std::string& text : service.requirements.constraints) {
    auto c = parse_constraint(text);
    if (!c) return false;
    auto have = attribute_of(node, c->attribute);
    if (c->equal ? !(have && *have == c->value) : (have && *have == c->value)) return false;
  }
  return true;
}

PlacementResult place(const ServiceSpec& service, const std::vector<NodeInfo>& nodes) {
  PlacementResult result;
  std::vector<Constraint> constraints;
  for (const std::string& text : service.requirements.constraints) {
    auto c = parse_constraint(text);
    if (!c) {
      result.explanation = "invalid placement constraint \"" + text +
                           "\" (want node.id, node.hostname, node.role, node.platform.os, node.platform.arch or node.labels.KEY with == or !=)";
      return result;
    }
    constraints.push_back(*c);
  }
  if (nodes.empty()) {
    result.explanation = "no node satisfies: no nodes";
    return result;
  }

  // Per spread key: label value -> the service's replicas on nodes of that value.
  std::vector<std::map<std::string, int>> spread_counts(service.requirements.spread.size());
  for (size_t k = 0; k < spread_counts.size(); k++)
    for (const NodeInfo& node : nodes) {
      auto v = node.labels.find(service.requirements.spread[k]);
      spread_counts[k][v == node.labels.end() ? "" : v->second] += replicas_of(node, service.name);
    }
  auto spread_key = [&](const NodeInfo& node) {
    std::vector<int> key;
    for (size_t k = 0; k < spread_counts.size(); k++) {
      auto v = node.labels.find(service.requirements.spread[k]);
      key.push_back(spread_counts[k][v == node.labels.end() ? "" : v->second]);
    }
    return key;
  };
  const NodeInfo* best = nullptr;
  double best_score = 0;
  std::vector<int> best_spread;
  std::string rejected;
  for (const NodeInfo& node : nodes) {
    auto why = rejections(service, constraints, node);
    if (!why.empty()) {
      rejected += (rejected.empty() ? "" : "; ") + node.id + ": ";
      for (size_t i = 0; i < why.size(); i++) rejected += (i ? ", " : "") + why[i];
      continue;
    }
    double score = utilisation_after(service, node);
    std::vector<int> spread = spread_key(node);
    bool better = !best || spread < best_spread || (spread == best_spread && score > best_score + 1e-9);
    if (!better && best && spread == best_spread && std::abs(score - best_score) <= 1e-9) {
      int mine = replicas_of(node, service.name), theirs = replicas_of(*best, service.name);
      better = mine < theirs || (mine == theirs && node.id < best->id);
    }
    if (better) {
      best = &node;
      best_score = score;
      best_spread = std::move(spread);
    }
  }
  if (!best) {
    result.explanation = "no node satisfies: " + rejected;
    return result;
  }
  result.node = best->id;
  result.explanation = "placed on " + best->id + " (utilisation " +
                       std::to_string(static_cast<int>(best_score * 100 + 0.5)) + "% after, " +
                       std::to_string(replicas_of(*best, service.name)) + " replica(s) of " +
                       service.name + " there)";
  return result;
}

namespace {

void reserve(NodeInfo& node, const ServiceSpec* service, const std::string& name) {
  node.replicas_of_service[name]++;
  if (!service) return;  // an orphan: its reservations are unknown, it only counts for spread
  const Requirements& req = service->requirements;
  node.cpus_used += req.cpus;
  node.memory_used += req.memory;
  node.gpus_used = req.gpus < 0 ? std::max(node.gpus_used, node.gpus) : node.gpus_used + req.gpus;
}

// place() for the many replicas of one service that a decision creates at
// once (a `up` of 30,000): what cannot change within a decision (ready,
// active, the constraints) is looked at once per node, the service's count
// per node is an array, and a pass over the nodes allocates nothing. It
// chooses exactly as place() does (tests/unit/placement_test.cc compares
// the two); a service with spread preferences, whose ranking moves with
// every placement on a node of the same label value, goes through place().
class Ranker {
 public:
  Ranker(const ServiceSpec& service, const std::vector<NodeInfo>& nodes) : service_(service) {
    std::vector<Constraint> constraints;
    for (const std::string& text : service.requirements.constraints) {
      auto c = parse_constraint(text);
      if (!c) return;  // usable() is false: place() names the constraint
      constraints.push_back(*c);
    }
    usable_ = service.requirements.spread.empty();
    count_.resize(nodes.size());
    for (size_t i = 0; i < nodes.size(); i++) {
      const NodeInfo& n = nodes[i];
      count_[i] = replicas_of(n, service.name);
      bool holds = n.ready && n.active;
      for (const Constraint& c : constraints) {
        if (!holds) break;
        auto have = attribute_of(n, c.attribute);
        holds = c.equal ? (have && *have == c.value) : (!have || *have != c.value);
      }
      if (holds) candidates_.push_back(i);
    }
  }
  bool usable() const { return usable_; }

  // The index of the node place() would choose; nullopt when none fits.
  std::optional<size_t> choose(const std::vector<NodeInfo>& nodes) const {
    const Requirements& req = service_.requirements;
    std::optional<size_t> best;
    double best_score = 0;
    for (size_t i : candidates_) {
      const NodeInfo& n = nodes[i];
      if (!cpus_fit(req, n) || !memory_fit(req, n) || !gpus_fit(req, n) || !under_max(req, count_[i])) continue;
      double score = utilisation_after(service_, n);
      bool better = !best || score > best_score + 1e-9;
      if (!better && std::abs(score - best_score) <= 1e-9)
        better = count_[i] < count_[*best] || (count_[i] == count_[*best] && n.id < nodes[*best].id);
      if (better) {
        best = i;
        best_score = score;
      }
    }
    return best;
  }
  void placed(size_t i) {
    if (i < count_.size()) count_[i]++;  // empty when a constraint did not parse (nothing is placed then)
  }

 private:
  const ServiceSpec& service_;
  bool usable_ = false;
  std::vector<size_t> candidates_;
  std::vector<int> count_;  // the service's replicas per node
};

}  // namespace

void place_actions(Decision& decision, const StackSpec& desired, const ObservedStack& observed,
                   std::vector<NodeInfo> nodes) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < nodes.size(); i++) index.emplace(nodes[i].id, i);
  auto node_by_id = [&](const std::string& id) -> NodeInfo* {
    auto it = index.find(id);
    return it == index.end() ? nullptr : &nodes[it->second];
  };
  std::unordered_map<std::string, const ServiceSpec*> services;
  for (const ServiceSpec& s : desired.services) services.emplace(s.name, &s);
  auto service_of = [&](const std::string& name) -> const ServiceSpec* {
    auto it = services.find(name);
    return it == services.end() ? nullptr : it->second;
  };

  std::map<std::pair<std::string, int>, std::string> node_of_slot;
  for (const ReplicaStatus& r : observed.replicas) {
    node_of_slot[{r.service, r.slot}] = r.node;
    if (r.state != ReplicaState::Running && r.state != ReplicaState::Stopping) continue;
    if (NodeInfo* n = node_by_id(r.node)) reserve(*n, service_of(r.service), r.service);
  }
  // Made at a service's first placement by place_actions' own ranking,
  // after the observed reservations above.
  std::map<std::string, Ranker> rankers;
  std::vector<Action> kept;
  std::set<std::string> reported;
  for (Action& a : decision.actions) {
    if (a.kind != ActionKind::Create && a.kind != ActionKind::Restart) {
      kept.push_back(std::move(a));
      continue;
    }
    const ServiceSpec* s = service_of(a.service);
    ServiceSpec none;
    none.name = a.service;
    const ServiceSpec& spec = s ? *s : none;
    PlacementResult p;
    if (!a.node.empty()) {  // a global service's: its node or none
      NodeInfo* there = node_by_id(a.node);
      p = there ? place(spec, {*there}) : PlacementResult{"", "no node satisfies: " + a.node + ": not a node"};
    } else if (a.kind == ActionKind::Restart) {
      auto it = node_of_slot.find({a.service, a.slot});
      NodeInfo* home = it == node_of_slot.end() ? nullptr : node_by_id(it->second);
      if (home) p = place(spec, {*home});
    }
    if (p.node.empty() && a.node.empty()) {
      auto r = rankers.find(a.service);
      if (r == rankers.end() && s) r = rankers.emplace(a.service, Ranker(*s, nodes)).first;
      bool ranked = r != rankers.end() && r->second.usable();
      std::optional<size_t> chosen = ranked ? r->second.choose(nodes) : std::nullopt;
      if (chosen) {
        p.node = nodes[*chosen].id;
      } else {
        // Room only shrinks within a decision: a service that fit nowhere
        // fits nowhere for its next replica either (its line is written).
        if (ranked && reported.count(a.service)) continue;
        p = place(spec, nodes);  // spread preferences, or the explanation of why none fits
      }
    }
    if (p.node.empty()) {
      if (reported.insert(a.service).second) decision.blocked.push_back(a.service + " blocked: " + p.explanation);
      continue;
    }
    size_t i = index.at(p.node);
    reserve(nodes[i], s, a.service);
    if (auto r = rankers.find(a.service); r != rankers.end()) r->second.placed(i);
    a.node = p.node;
    kept.push_back(std::move(a));
  }
  decision.actions = std::move(kept);
}

}  // namespace stack::sched
