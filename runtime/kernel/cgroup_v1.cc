#include "runtime/kernel/cgroup_v1.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "runtime/kernel/cgroup_blkio.h"
#include "runtime/kernel/cgroup_hugetlb.h"

namespace stack::rt {

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// v1 reports "no limit" as PAGE_COUNTER_MAX * PAGE_SIZE (9223372036854771712
// on 4 KiB pages); anything that large is unlimited for a caller.
std::optional<int64_t> v1_limit(uint64_t raw) {
  if (raw >= (uint64_t{1} << 62)) return std::nullopt;
  return static_cast<int64_t>(raw);
}

// Writes `period` then `value`, as the kernel checks value against period.
// When lowering the period would push old_value/new_period past the parent's
// bandwidth the kernel refuses it (EINVAL); then write the value first and
// retry the period (runc's order).
Result<> write_period_then_value(const std::string& period_file, std::optional<std::string> period,
                                 const std::string& value_file, std::optional<std::string> value) {
  bool retry_period = false;
  if (period) {
    auto r = cgroupfs::write(period_file, *period);
    if (!r) {
      if (r.error().code != EINVAL || !value) return r;
      retry_period = true;
    }
  }
  if (value) STACK_TRY(cgroupfs::write(value_file, *value));
  if (retry_period) STACK_TRY(cgroupfs::write(period_file, *period));
  return {};
}

// A frozen task keeps a pending SIGKILL until thawed; a sub-cgroup frozen on
// its own stays frozen when its parent thaws, so thaw the whole tree.
void thaw_tree(const std::string& dir) {
  if (!cgroupfs::exists(dir + "/freezer.state")) return;
  (void)cgroupfs::write(dir + "/freezer.state", "THAWED");
  if (auto subs = cgroupfs::subdirs(dir))
    for (const auto& s : *subs) thaw_tree(s);
}

}  // namespace

CgroupV1Manager::CgroupV1Manager(std::vector<CgroupMount> hierarchies, std::string path)
    : path_(std::move(path)) {
  for (auto& m : hierarchies) {
    std::string dir = m.mount_point + path_;
    hierarchies_.push_back(Hierarchy{std::move(m), std::move(dir)});
  }
}

std::string CgroupV1Manager::dir_of(const std::string& controller) const {
  for (const auto& h : hierarchies_)
    if (std::find(h.mount.controllers.begin(), h.mount.controllers.end(), controller) != h.mount.controllers.end())
      return h.dir;
  return "";
}

Result<std::string> CgroupV1Manager::require(const std::string& controller, const std::string& why) const {
  std::string dir = dir_of(controller);
  if (dir.empty()) return fail(why + ": no cgroup v1 \"" + controller + "\" hierarchy is mounted", EOPNOTSUPP);
  return dir;
}

Result<> CgroupV1Manager::create(const Resources& resources) {
  // Refuse before making anything, so a bad spec leaves nothing behind.
  if (!resources.unified.empty())
    return fail("linux.resources.unified: cgroup v2 files cannot be set on a cgroup v1 host", EINVAL);
  for (const auto& h : hierarchies_) {
    const bool cpuset = std::count(h.mount.controllers.begin(), h.mount.controllers.end(), "cpuset") > 0;
    // A new cpuset cgroup starts with empty cpus/mems and refuses tasks, so
    // every level (ours and the shared parents we made) copies its parent's
    // before a child is made below it.
    auto init_cpuset = [](const std::string& dir) -> Result<> {
      const std::string parent = dir.substr(0, dir.rfind('/'));
      for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
        auto cur = cgroupfs::read(dir + "/" + f);
        if (!cur) return tl::unexpected(cur.error());
        if (!trimmed(*cur).empty()) continue;
        auto from = cgroupfs::read(parent + "/" + f);
        if (!from) return tl::unexpected(from.error());
        STACK_TRY(cgroupfs::write(dir + "/" + f, trimmed(*from)));
      }
      return {};
    };
    auto r = cgroupfs::make_dirs(h.mount.mount_point, path_,
                                 cpuset ? std::function<Result<>(const std::string&)>(init_cpuset) : nullptr);
    if (!r) return tl::unexpected(r.error().wrap("create cgroup " + path_));
  }
  auto r = apply(resources);
  if (!r) return tl::unexpected(r.error().wrap("create cgroup " + path_));
  return {};
}

Result<> CgroupV1Manager::apply(const Resources& r) {
  if (!r.unified.empty())
    return fail("linux.resources.unified: cgroup v2 files cannot be set on a cgroup v1 host", EINVAL);
  if (r.memory) STACK_TRY(set_memory(*r.memory));
  if (r.cpu) STACK_TRY(set_cpu(*r.cpu));
  if (r.pids) {
    auto dir = require("pids", "pids limit");
    if (!dir) return tl::unexpected(dir.error());
    STACK_TRY(cgroupfs::write(*dir + "/pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"));
  }
  if (!r.devices.empty()) STACK_TRY(set_devices(r.devices));
  if (r.block_io && block_io_requested(*r.block_io)) {
    auto dir = require("blkio", "linux.resources.blockIO");
    if (!dir) return tl::unexpected(dir.error());
    STACK_TRY(set_blkio_v1(*dir, *r.block_io));
  }
  if (!r.hugepage_limits.empty()) {
    auto dir = require("hugetlb", "linux.resources.hugepageLimits");
    if (!dir) return tl::unexpected(dir.error());
    STACK_TRY(set_hugetlb_v1(*dir, r.hugepage_limits));
  }
  if (r.network) STACK_TRY(set_network(*r.network));
  return {};
}

Result<> CgroupV1Manager::set_network(const NetworkResources& n) {
  // 0 is "unset" for the class id, as in runc.
  if (n.class_id && *n.class_id) {
    auto dir = require("net_cls", "linux.resources.network.classID");
    if (!dir) return tl::unexpected(dir.error());
    STACK_TRY_CTX(cgroupfs::write(*dir + "/net_cls.classid", std::to_string(*n.class_id)),
                  "linux.resources.network.classID");
  }
  for (size_t i = 0; i < n.priorities.size(); ++i) {
    const std::string what = "linux.resources.network.priorities[" + std::to_string(i) + "]";
    auto dir = require("net_prio", what);
    if (!dir) return tl::unexpected(dir.error());
    // One "ifname priority" per write; the kernel refuses an unknown name.
    const auto& p = n.priorities[i];
    STACK_TRY_CTX(cgroupfs::write(*dir + "/net_prio.ifpriomap", p.name + " " + std::to_string(p.priority)), what);
  }
  return {};
}

Result<> CgroupV1Manager::set_memory(const MemoryResources& m) {
  // 0 means "unset" for limit, reservation and swap, as in runc (Docker sends
  // 0 for fields the user did not give).
  auto given = [](const std::optional<int64_t>& v) { return v && *v != 0; };
  if (!given(m.limit) && !given(m.reservation) && !given(m.swap) && !m.swappiness && !m.disable_oom_killer)
    return {};
  auto dir = require("memory", "memory limits");
  if (!dir) return tl::unexpected(dir.error());
  const std::string limit_file = *dir + "/memory.limit_in_bytes";
  const std::string memsw_file = *dir + "/memory.memsw.limit_in_bytes";
  // Without swap accounting (swapaccount=0) the memsw files are absent and a
  // swap limit cannot be expressed; skip it rather than fail the container.
  const bool memsw = given(m.swap) && cgroupfs::exists(memsw_file);

  if (given(m.limit) && memsw) {
    // The kernel keeps memsw >= limit at every instant: when raising, move
    // memsw first; when lowering, the limit first.
    auto cur = cgroupfs::read_u64(limit_file);
    if (!cur) return tl::unexpected(cur.error());
    if (*m.swap == -1 || *cur < static_cast<uint64_t>(*m.swap)) {
      STACK_TRY(cgroupfs::write(memsw_file, std::to_string(*m.swap)));
      STACK_TRY(cgroupfs::write(limit_file, std::to_string(*m.limit)));
    } else {
      STACK_TRY(cgroupfs::write(limit_file, std::to_string(*m.limit)));
      STACK_TRY(cgroupfs::write(memsw_file, std::to_string(*m.swap)));
    }
  } else {
    if (given(m.limit)) STACK_TRY(cgroupfs::write(limit_file, std::to_string(*m.limit)));
    if (memsw) STACK_TRY(cgroupfs::write(memsw_file, std::to_string(*m.swap)));
  }
  if (given(m.reservation))
    STACK_TRY(cgroupfs::write(*dir + "/memory.soft_limit_in_bytes", std::to_string(*m.reservation)));
  if (m.swappiness) {
    if (*m.swappiness > 100)
      return fail("linux.resources.memory.swappiness " + std::to_string(*m.swappiness) + ": must be 0-100", EINVAL);
    STACK_TRY(cgroupfs::write(*dir + "/memory.swappiness", std::to_string(*m.swappiness)));
  }
  if (m.disable_oom_killer)
    STACK_TRY(cgroupfs::write(*dir + "/memory.oom_control", *m.disable_oom_killer ? "1" : "0"));
  return {};
}

Result<> CgroupV1Manager::set_cpu(const CpuResources& c) {
  const bool cfs = (c.shares && *c.shares) || (c.quota && *c.quota) || (c.period && *c.period) ||
                   (c.realtime_runtime && *c.realtime_runtime) || (c.realtime_period && *c.realtime_period);
  if (cfs) {
    auto dir = require("cpu", "cpu limits");
    if (!dir) return tl::unexpected(dir.error());
    if (c.shares && *c.shares) STACK_TRY(cgroupfs::write(*dir + "/cpu.shares", std::to_string(*c.shares)));
    auto opt = [](auto v) -> std::optional<std::string> {
      if (v && *v) return std::to_string(*v);
      return std::nullopt;
    };
    STACK_TRY(write_period_then_value(*dir + "/cpu.cfs_period_us", opt(c.period), *dir + "/cpu.cfs_quota_us",
                                      opt(c.quota)));
    STACK_TRY(write_period_then_value(*dir + "/cpu.rt_period_us", opt(c.realtime_period),
                                      *dir + "/cpu.rt_runtime_us", opt(c.realtime_runtime)));
  }
  if (!c.cpus.empty() || !c.mems.empty()) {
    auto dir = require("cpuset", "cpuset");
    if (!dir) return tl::unexpected(dir.error());
    if (!c.cpus.empty()) STACK_TRY(cgroupfs::write(*dir + "/cpuset.cpus", c.cpus));
    if (!c.mems.empty()) STACK_TRY(cgroupfs::write(*dir + "/cpuset.mems", c.mems));
  }
  return {};
}

Result<std::string> CgroupV1Manager::device_rule_string(const DeviceCgroupRule& rule) {
  const std::string type = rule.type.empty() ? "a" : rule.type;
  if (type != "a" && type != "b" && type != "c")
    return fail("linux.resources.devices: type \"" + rule.type + "\" (want a, b or c)", EINVAL);
  const std::string access = rule.access.empty() ? "rwm" : rule.access;
  if (access.find_first_not_of("rwm") != std::string::npos)
    return fail("linux.resources.devices: access \"" + rule.access + "\" (want a subset of rwm)", EINVAL);
  // The kernel treats "a" as "every device" whatever follows, and switches
  // the cgroup's default instead of adding an exception.
  if (type == "a") return std::string("a");
  auto num = [](const std::optional<int64_t>& v) { return v && *v >= 0 ? std::to_string(*v) : std::string("*"); };
  return type + " " + num(rule.major) + ":" + num(rule.minor) + " " + access;
}

Result<> CgroupV1Manager::set_devices(const std::vector<DeviceCgroupRule>& rules) {
  auto dir = require("devices", "device rules");
  if (!dir) return tl::unexpected(dir.error());
  // Validate all before writing any, so a bad list leaves the old rules.
  std::vector<std::string> lines;
  for (const auto& r : rules) {
    auto s = device_rule_string(r);
    if (!s) return tl::unexpected(s.error());
    lines.push_back(*s);
  }
  // In list order: a leading deny-all ("a") resets the cgroup to default-deny
  // with no exceptions, then each allow adds one back (OCI semantics).
  for (size_t i = 0; i < rules.size(); ++i)
    STACK_TRY(cgroupfs::write(*dir + (rules[i].allow ? "/devices.allow" : "/devices.deny"), lines[i]));
  return {};
}

Result<> CgroupV1Manager::add_pid(pid_t pid) {
  for (const auto& h : hierarchies_) {
    auto r = cgroupfs::write(h.dir + "/cgroup.procs", std::to_string(pid));
    if (!r) return tl::unexpected(r.error().wrap("add pid " + std::to_string(pid) + " to cgroup " + path_));
  }
  return {};
}

std::vector<std::string> CgroupV1Manager::procs_files() const {
  std::vector<std::string> out;
  for (const auto& h : hierarchies_) out.push_back(h.dir + "/cgroup.procs");
  return out;
}

Result<std::vector<pid_t>> CgroupV1Manager::pids() const {
  // The union over hierarchies: a process moved out of one hierarchy by
  // someone else still belongs to the container for kill purposes.
  std::vector<pid_t> out;
  for (const auto& h : hierarchies_) {
    auto p = cgroupfs::procs_recursive(h.dir);
    if (!p) return p;
    out.insert(out.end(), p->begin(), p->end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<CgroupStats> CgroupV1Manager::stats() const {
  CgroupStats s;
  const std::string ctx = "stats of cgroup " + path_;
  auto u64 = [&](const std::string& file, uint64_t& into) -> Result<> {
    auto v = cgroupfs::read_u64(file);
    if (!v) return tl::unexpected(v.error().wrap(ctx));
    into = *v;
    return {};
  };
  if (auto d = dir_of("cpuacct"); !d.empty()) STACK_TRY(u64(d + "/cpuacct.usage", s.cpu_usage_ns));
  if (auto d = dir_of("memory"); !d.empty()) {
    STACK_TRY(u64(d + "/memory.usage_in_bytes", s.memory_usage));
    STACK_TRY(u64(d + "/memory.max_usage_in_bytes", s.memory_max_usage));
    uint64_t limit = 0;
    STACK_TRY(u64(d + "/memory.limit_in_bytes", limit));
    s.memory_limit = v1_limit(limit);
    auto mstat = cgroupfs::read(d + "/memory.stat");
    if (!mstat) return tl::unexpected(mstat.error().wrap(ctx));
    s.memory_inactive_file = cgroupfs::keyed_value(*mstat, "total_inactive_file").value_or(0);
    auto oom = cgroupfs::read(d + "/memory.oom_control");
    if (!oom) return tl::unexpected(oom.error().wrap(ctx));
    // "oom_kill" exists since 4.13. v1 has no count of OOM episodes, so
    // oom_events mirrors the kills.
    s.oom_kills = cgroupfs::keyed_value(*oom, "oom_kill").value_or(0);
    s.oom_events = s.oom_kills;
  }
  if (auto d = dir_of("pids"); !d.empty()) {
    STACK_TRY(u64(d + "/pids.current", s.pids_current));
    auto lim = cgroupfs::read_limit(d + "/pids.max");
    if (!lim) return tl::unexpected(lim.error().wrap(ctx));
    s.pids_limit = *lim;
  }
  return s;
}

Result<> CgroupV1Manager::freeze(bool frozen) {
  auto dir = require("freezer", frozen ? "freeze" : "thaw");
  if (!dir) return tl::unexpected(dir.error());
  const std::string file = *dir + "/freezer.state";
  const std::string want = frozen ? "FROZEN" : "THAWED";
  // FROZEN is reached through FREEZING; a task in an uninterruptible sleep
  // can hold it there, and rewriting FROZEN makes the kernel try again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (int i = 0;; ++i) {
    if (i % 50 == 0) STACK_TRY(cgroupfs::write(file, want));
    auto state = cgroupfs::read(file);
    if (!state) return tl::unexpected(state.error());
    if (trimmed(*state) == want) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      if (frozen) (void)cgroupfs::write(file, "THAWED");  // do not leave it half frozen
      return fail((frozen ? "freeze cgroup " : "thaw cgroup ") + path_ + ": " + file + " stuck at " +
                      trimmed(*state),
                  ETIMEDOUT);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Result<> CgroupV1Manager::destroy() {
  const std::string freezer = dir_of("freezer");
  auto killed = cgroupfs::kill_until_empty(
      [this] { return pids(); },
      [&] {
        if (!freezer.empty()) thaw_tree(freezer);
      },
      2000, "cgroup " + path_);
  if (!killed) return tl::unexpected(killed.error().wrap("destroy cgroup " + path_));
  Result<> first;
  for (const auto& h : hierarchies_) {
    auto r = cgroupfs::remove_tree(h.dir);
    if (!r && first) first = tl::unexpected(r.error().wrap("destroy cgroup " + path_));
  }
  return first;
}

std::vector<CgroupHierarchy> CgroupV1Manager::hierarchies() const {
  std::vector<CgroupHierarchy> out;
  for (const auto& h : hierarchies_) out.push_back({h.mount.mount_point, h.dir, h.mount.controllers, false});
  return out;
}

}  // namespace stack::rt
