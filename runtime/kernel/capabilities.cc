#include "runtime/kernel/capabilities.h"

#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>

namespace stack::rt {

int kernel_last_cap() {
  static int last = [] {
    std::ifstream f("/proc/sys/kernel/cap_last_cap");
    int v = CAP_LAST_CAP;
    if (f) f >> v;
    return v;
  }();
  return last;
}

Result<int> capability_from_name(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.rfind("cap_", 0) != 0) lower = "cap_" + lower;
  cap_value_t v;
  if (cap_from_name(lower.c_str(), &v) != 0) return fail("unknown capability \"" + name + "\"", EINVAL);
  return static_cast<int>(v);
}

std::string capability_name(int cap) {
  char* n = cap_to_name(static_cast<cap_value_t>(cap));
  std::string s = n ? n : std::to_string(cap);
  cap_free(n);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

static Result<uint64_t> mask_of(const std::vector<std::string>& names, const char* set) {
  uint64_t mask = 0;
  for (auto& n : names) {
    auto c = capability_from_name(n);
    if (!c) return tl::unexpected(c.error().wrap(std::string("process.capabilities.") + set));
    // Capabilities the kernel does not know are skipped, as runc does, so a
    // spec written for a newer kernel still runs.
    if (*c > kernel_last_cap()) continue;
    mask |= 1ULL << *c;
  }
  return mask;
}

Result<CapPlan> plan_capabilities(const std::optional<Capabilities>& caps) {
  CapPlan p;
  p.last_cap = kernel_last_cap();
  if (!caps) return p;
  p.set = true;
  auto b = mask_of(caps->bounding, "bounding");
  if (!b) return tl::unexpected(b.error());
  auto e = mask_of(caps->effective, "effective");
  if (!e) return tl::unexpected(e.error());
  auto pe = mask_of(caps->permitted, "permitted");
  if (!pe) return tl::unexpected(pe.error());
  auto i = mask_of(caps->inheritable, "inheritable");
  if (!i) return tl::unexpected(i.error());
  auto a = mask_of(caps->ambient, "ambient");
  if (!a) return tl::unexpected(a.error());
  p.bounding = *b;
  p.effective = *e;
  p.permitted = *pe;
  p.inheritable = *i;
  p.ambient = *a;
  return p;
}

int drop_bounding(const CapPlan& plan, ChildError* err) noexcept {
  if (!plan.set) return 0;
  for (int c = 0; c <= plan.last_cap; c++) {
    if (plan.bounding & (1ULL << c)) continue;
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) {
      err->set(errno, "drop capability from bounding set");
      return err->code;
    }
  }
  return 0;
}

int apply_capabilities(const CapPlan& plan, ChildError* err) noexcept {
  if (!plan.set) return 0;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0].effective = static_cast<uint32_t>(plan.effective);
  data[1].effective = static_cast<uint32_t>(plan.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(plan.permitted);
  data[1].permitted = static_cast<uint32_t>(plan.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(plan.inheritable);
  data[1].inheritable = static_cast<uint32_t>(plan.inheritable >> 32);
  if (::syscall(SYS_capset, &hdr, data) != 0) {
    err->set(errno, "capset");
    return err->code;
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int c = 0; c <= plan.last_cap; c++) {
    if (!(plan.ambient & (1ULL << c))) continue;
    // Ambient needs the cap in permitted and inheritable; runc ignores
    // failures here, and so do we (the cap is simply not ambient).
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
  }
  return 0;
}

}  // namespace stack::rt
