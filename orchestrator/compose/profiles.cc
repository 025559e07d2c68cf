#include "orchestrator/compose/profiles.h"

namespace stack::compose {

std::vector<std::string> split_profiles(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= list.size(); ++i)
    if (i == list.size() || list[i] == ',') {
      std::string p = list.substr(start, i - start);
      size_t b = p.find_first_not_of(" \t"), e = p.find_last_not_of(" \t");
      if (b != std::string::npos) out.push_back(p.substr(b, e - b + 1));
      start = i + 1;
    }
  return out;
}

std::set<std::string> apply_profiles(Node& document, const std::set<std::string>& selected) {
  std::set<std::string> removed;
  Node* services = document.find("services");
  if (!services || !services->is_map()) return removed;
  bool all = selected.count("*") > 0;
  std::vector<Entry> kept;
  for (auto& e : services->entries) {
    const Node* profiles = e.value.is_map() ? e.value.find("profiles") : nullptr;
    bool active = !profiles || profiles->items.empty() || all;
    if (profiles)
      for (auto& p : profiles->items)
        if (selected.count(p.scalar)) active = true;
    if (active) kept.push_back(std::move(e));
    else removed.insert(e.key);
  }
  services->entries = std::move(kept);
  return removed;
}

}  // namespace stack::compose
