// Directed graphs over names (services and what they depend on). One cycle
// search for the whole tree: the loader refuses a depends_on cycle at its
// file:line (orchestrator/compose/checks.cc) and the scheduler names one
// left in a spec that came another way (scheduler/deps.cc), with the same
// walk, so both say the same cycle for the same graph.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace stack::graph {

// name -> the names it points at (depends on).
using Edges = std::map<std::string, std::set<std::string>>;

// The first cycle a depth-first walk meets, taking nodes and their edges in
// name order: the path from where the cycle starts back to it ({"a", "b",
// "a"}; a self-loop is {"x", "x"}); empty when there is none. Edges to names
// that are not keys are ignored.
std::vector<std::string> find_cycle(const Edges& edges);

// "a -> b -> a".
std::string cycle_text(const std::vector<std::string>& cycle);

}  // namespace stack::graph
