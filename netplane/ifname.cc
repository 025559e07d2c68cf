#include "netplane/ifname.h"

#include <cstdint>
#include <cstdio>

namespace stack::net {

bool valid_ifname(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || c == ' ' || c == '\0' || c == '\t' || c == '\n') return false;
  return true;
}

std::string endpoint_ifname(const std::string& container_id, const std::string& network) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix(container_id);
  mix(std::string(1, '\0'));
  mix(network);
  char buf[16];
  std::snprintf(buf, sizeof buf, "sk%012llx", static_cast<unsigned long long>(h & 0xffffffffffffULL));
  return buf;
}

}  // namespace stack::net
