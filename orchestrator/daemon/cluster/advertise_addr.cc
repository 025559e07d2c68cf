#include "orchestrator/daemon/cluster/advertise_addr.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <memory>

namespace stack::orch {

std::vector<std::string> host_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owned(list, ::freeifaddrs);
  for (auto* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || !(a->ifa_flags & IFF_UP)) continue;
    // Our own stack networks' bridges (netplane: "stk-..."): their gateway
    // addresses are reachable only from this host's containers.
    if (std::string(a->ifa_name).rfind("stk-", 0) == 0) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET)
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    else if (a->ifa_addr->sa_family == AF_INET6)
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, text, sizeof text);
    else
      continue;
    out.emplace_back(text);
  }
  return out;
}

stack::Result<std::string> choose_advertise_addr(const std::string& requested) {
  auto mine = host_addresses();
  if (!requested.empty()) {
    in6_addr a6{};
    in_addr a4{};
    if (::inet_pton(AF_INET, requested.c_str(), &a4) != 1 && ::inet_pton(AF_INET6, requested.c_str(), &a6) != 1)
      return stack::fail("--advertise-addr \"" + requested + "\": not an IP address", EINVAL);
    if (std::find(mine.begin(), mine.end(), requested) == mine.end())
      return stack::fail("--advertise-addr " + requested + ": not an address of this host", EINVAL);
    return requested;
  }
  std::vector<std::string> candidates;
  for (const auto& a : mine) {
    in_addr a4{};
    if (::inet_pton(AF_INET, a.c_str(), &a4) == 1 && a.rfind("127.", 0) != 0) candidates.push_back(a);
  }
  if (candidates.empty()) return std::string("127.0.0.1");
  if (candidates.size() > 1) {
    std::string list;
    for (const auto& c : candidates) list += (list.empty() ? "" : ", ") + c;
    return stack::fail("this host has several addresses (" + list + "): choose one with --advertise-addr", EINVAL);
  }
  return candidates.front();
}

}  // namespace stack::orch
