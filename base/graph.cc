#include "base/graph.h"

#include <algorithm>
#include <functional>

namespace stack::graph {

std::vector<std::string> find_cycle(const Edges& edges) {
  enum Colour { White, OnPath, Done };
  std::map<std::string, Colour> colour;
  std::vector<std::string> path;
  std::vector<std::string> found;
  std::function<bool(const std::string&)> visit = [&](const std::string& n) {
    colour[n] = OnPath;
    path.push_back(n);
    for (const std::string& next : edges.at(n)) {
      if (!edges.count(next)) continue;
      if (colour[next] == OnPath) {
        found.assign(std::find(path.begin(), path.end(), next), path.end());
        found.push_back(next);
        return true;
      }
      if (colour[next] == White && visit(next)) return true;
    }
    path.pop_back();
    colour[n] = Done;
    return false;
  };
  for (const auto& [name, _] : edges)
    if (colour[name] == White && visit(name)) break;
  return found;
}

std::string cycle_text(const std::vector<std::string>& cycle) {
  std::string out;
  for (const std::string& n : cycle) out += (out.empty() ? "" : " -> ") + n;
  return out;
}

}  // namespace stack::graph
