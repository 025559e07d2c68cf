#include "runtime/kernel/rlimits.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace stack::rt {
namespace {

struct Named {
  const char* name;
  int resource;
};
const Named kLimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},   {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_STACK", RLIMIT_STACK},     {"RLIMIT_CORE", RLIMIT_CORE},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_LOCKS", RLIMIT_LOCKS},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},   {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

bool have_sys_resource() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0) return false;
  return data[0].effective & (1u << CAP_SYS_RESOURCE);
}

std::string show(rlim_t v) { return v == RLIM_INFINITY ? "unlimited" : std::to_string(v); }

}  // namespace

Result<int> rlimit_from_name(const std::string& name) {
  std::string up = name;
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  if (up.rfind("RLIMIT_", 0) != 0) up = "RLIMIT_" + up;
  for (auto& l : kLimits)
    if (up == l.name) return l.resource;
  return fail("unknown rlimit \"" + name + "\"", EINVAL);
}

Result<RlimitPlan> plan_rlimits(const std::vector<Rlimit>& limits) {
  RlimitPlan plan;
  const bool can_raise = have_sys_resource();
  for (size_t i = 0; i < limits.size(); i++) {
    const auto& l = limits[i];
    auto res = rlimit_from_name(l.type);
    if (!res) return tl::unexpected(res.error().wrap("process.rlimits[" + std::to_string(i) + "].type"));
    if (l.soft > l.hard)
      return fail("process.rlimits[" + std::to_string(i) + "]: soft limit " + std::to_string(l.soft) +
                      " exceeds hard limit " + std::to_string(l.hard),
                  EINVAL);
    PlannedRlimit p{*res, {static_cast<rlim_t>(l.soft), static_cast<rlim_t>(l.hard)}};
    struct rlimit cur{};
    if (!can_raise && ::getrlimit(*res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY &&
        (p.value.rlim_max == RLIM_INFINITY || p.value.rlim_max > cur.rlim_max)) {
      plan.warnings.push_back(l.type + ": hard limit " + show(p.value.rlim_max) + " clamped to " +
                              show(cur.rlim_max) + " (raising it needs CAP_SYS_RESOURCE)");
      p.value.rlim_max = cur.rlim_max;
      p.value.rlim_cur = std::min(p.value.rlim_cur, cur.rlim_max);
    }
    plan.limits.push_back(p);
  }
  return plan;
}

int apply_rlimits(const RlimitPlan& plan, ChildError* err) noexcept {
  for (auto& l : plan.limits) {
    if (::setrlimit(l.resource, &l.value) != 0) {
      err->set(errno, "setrlimit");
      return err->code;
    }
  }
  return 0;
}

}  // namespace stack::rt
