#include "orchestrator/project_name.h"

#include <cctype>

namespace stack::orch {

std::optional<std::string> normalize_project_name(const std::string& raw) {
  std::string out;
  for (unsigned char c : raw) {
    char l = static_cast<char>(std::tolower(c));
    bool ok = std::isdigit(c) || (l >= 'a' && l <= 'z') || l == '_' || l == '-';
    if (!ok) continue;
    if (out.empty() && (l == '_' || l == '-')) continue;  // must start with a letter or digit
    out.push_back(l);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<std::string> project_name_from_file(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  auto dot = base.find_last_of('.');
  if (dot != std::string::npos && dot > 0) base = base.substr(0, dot);
  return normalize_project_name(base);
}

}  // namespace stack::orch
