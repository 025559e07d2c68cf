#include "runtime/kernel/cgroup_v2.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/kernel/cgroup_blkio.h"
#include "runtime/kernel/cgroup_hugetlb.h"
#include "runtime/kernel/device_filter.h"

namespace stack::rt {

namespace {

// The controllers a container's limits use; enabled wherever available so a
// later `update` can set any of them.
const std::vector<std::string> kManaged = {"cpuset", "cpu", "io", "memory", "pids"};

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string limit_str(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

Result<> validate_unified_key(const std::string& key) {
  if (key.empty() || key.find('/') != std::string::npos || key == "." || key == ".." ||
      key.find('\0') != std::string::npos)
    return fail("linux.resources.unified: \"" + key + "\" is not a file name in the cgroup directory", EINVAL);
  return {};
}

// Controllers the requested resources cannot do without.
Result<std::set<std::string>> needed_controllers(const Resources& r) {
  std::set<std::string> need;
  if (r.memory) {
    const auto& m = *r.memory;
    if ((m.limit && *m.limit) || (m.reservation && *m.reservation) || (m.swap && *m.swap)) need.insert("memory");
  }
  if (r.cpu) {
    const auto& c = *r.cpu;
    if ((c.realtime_runtime && *c.realtime_runtime) || (c.realtime_period && *c.realtime_period))
      return fail("linux.resources.cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no realtime scheduling limits",
                  EINVAL);
    if ((c.shares && *c.shares) || (c.quota && *c.quota) || (c.period && *c.period)) need.insert("cpu");
    if (!c.cpus.empty() || !c.mems.empty()) need.insert("cpuset");
  }
  if (r.pids) need.insert("pids");
  if (r.block_io && block_io_requested(*r.block_io)) need.insert("io");
  if (!r.hugepage_limits.empty()) need.insert("hugetlb");
  // net_cls and net_prio are v1-only; v2 classifies traffic by cgroup path
  // (BPF, nftables "socket cgroupv2"), which the spec cannot express here.
  if (r.network && ((r.network->class_id && *r.network->class_id) || !r.network->priorities.empty()))
    return fail(std::string("linux.resources.network.") +
                    (r.network->class_id && *r.network->class_id ? "classID" : "priorities") +
                    ": cgroup v2 has no net_cls or net_prio controller",
                EOPNOTSUPP);
  for (const auto& [key, value] : r.unified) {
    STACK_TRY(validate_unified_key(key));
    // "memory.high" needs memory; core files ("cgroup.max.depth") need none.
    const std::string prefix = key.substr(0, key.find('.'));
    if (prefix != "cgroup" && key.find('.') != std::string::npos) need.insert(prefix);
  }
  return need;
}

// "linux.resources.blockIO: " for "io": names the setting that needs a
// controller the host does not delegate.
std::string field_needing(const std::string& controller) {
  static const std::map<std::string, std::string> fields = {
      {"io", "blockIO"}, {"hugetlb", "hugepageLimits"}, {"memory", "memory"},
      {"cpu", "cpu"},    {"cpuset", "cpu.cpus/mems"},   {"pids", "pids"}};
  auto it = fields.find(controller);
  return it == fields.end() ? "" : "linux.resources." + it->second + ": ";
}

}  // namespace

CgroupV2Manager::CgroupV2Manager(std::string mount_point, std::string path, bool manage_resources)
    : mount_point_(std::move(mount_point)),
      path_(std::move(path)),
      dir_(mount_point_ + path_),
      manage_resources_(manage_resources) {}

Result<std::vector<std::string>> CgroupV2Manager::available_controllers() const {
  const std::string parent = dir_.substr(0, dir_.rfind('/'));
  auto text = cgroupfs::read(parent + "/cgroup.controllers");
  if (!text) return tl::unexpected(text.error());
  return words(*text);
}

Result<> CgroupV2Manager::create(const Resources& resources) {
  if (manage_resources_) {
    // Validate before making anything, so a bad spec leaves nothing behind.
    auto need = needed_controllers(resources);
    if (!need) return tl::unexpected(need.error().wrap("create cgroup " + path_));
  }
  auto r = cgroupfs::make_dirs(mount_point_, path_);
  if (!r) return tl::unexpected(r.error().wrap("create cgroup " + path_));
  r = apply(resources);
  if (!r) return tl::unexpected(r.error().wrap("create cgroup " + path_));
  return {};
}

Result<> CgroupV2Manager::enable_controllers(const Resources& resources) {
  auto need = needed_controllers(resources);
  if (!need) return tl::unexpected(need.error());
  std::vector<std::string> want = kManaged;
  for (const auto& c : *need)
    if (!contains(want, c)) want.push_back(c);
  // Every ancestor from the mount root down to our parent must delegate a
  // controller for it to appear here; our own subtree_control stays empty
  // (processes live here, and v2 forbids both).
  std::vector<std::string> ancestors = {mount_point_};
  for (size_t pos = path_.find('/', 1); pos != std::string::npos; pos = path_.find('/', pos + 1))
    ancestors.push_back(mount_point_ + path_.substr(0, pos));
  for (const auto& a : ancestors) {
    auto avail = cgroupfs::read(a + "/cgroup.controllers");
    if (!avail) return tl::unexpected(avail.error());
    auto enabled = cgroupfs::read(a + "/cgroup.subtree_control");
    if (!enabled) return tl::unexpected(enabled.error());
    const auto have = words(*avail), on = words(*enabled);
    for (const auto& c : want) {
      if (contains(on, c)) continue;
      const bool needed = need->count(c) > 0;
      if (!contains(have, c)) {
        if (!needed) continue;
        std::string list;
        for (const auto& h : have) list += (list.empty() ? "" : " ") + h;
        if (list.empty()) list = "empty; on a hybrid host the controllers are bound to v1";
        return fail(field_needing(c) + "cgroup v2 controller \"" + c + "\" is not available in " + a +
                        " (cgroup.controllers: " + list + ")",
                    EOPNOTSUPP);
      }
      auto w = cgroupfs::write(a + "/cgroup.subtree_control", "+" + c);
      if (!w && needed) return w;
    }
  }
  return {};
}

Result<> CgroupV2Manager::apply(const Resources& r) {
  if (!manage_resources_) return {};
  STACK_TRY(enable_controllers(r));
  if (r.memory) {
    const auto& m = *r.memory;
    const int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
    if (limit != 0 || swap != 0) {
      auto sw = memory_swap_to_v2(swap, limit);
      if (!sw) return tl::unexpected(sw.error());
      std::string s;
      if (*sw == -1) s = "max";
      else if (*sw > 0) s = std::to_string(*sw);
      else if (swap > 0) s = "0";  // memory+swap == memory: no swap at all
      if (!s.empty()) {
        auto w = cgroupfs::write(dir_ + "/memory.swap.max", s);
        // Without swap accounting the file is absent; "no limit" and "no
        // swap" then hold anyway (runc ignores those two the same way).
        if (!w && !(w.error().code == ENOENT && (s == "max" || s == "0"))) return w;
      }
      if (limit != 0) STACK_TRY(cgroupfs::write(dir_ + "/memory.max", limit_str(limit)));
    }
    if (m.reservation && *m.reservation)
      STACK_TRY(cgroupfs::write(dir_ + "/memory.low", limit_str(*m.reservation)));
    // swappiness and disable_oom_killer have no v2 files; runc ignores them
    // on v2 too.
  }
  if (r.cpu) {
    const auto& c = *r.cpu;
    if (c.shares && *c.shares)
      STACK_TRY(cgroupfs::write(dir_ + "/cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares))));
    const int64_t quota = c.quota.value_or(0);
    const uint64_t period = c.period.value_or(0);
    if (quota != 0 || period != 0) {
      // "quota period"; without a positive quota the limit is "max", and
      // without a period the kernel keeps the current one.
      std::string s = quota > 0 ? std::to_string(quota) : "max";
      if (period != 0) s += " " + std::to_string(period);
      STACK_TRY(cgroupfs::write(dir_ + "/cpu.max", s));
    }
    if (!c.cpus.empty()) STACK_TRY(cgroupfs::write(dir_ + "/cpuset.cpus", c.cpus));
    if (!c.mems.empty()) STACK_TRY(cgroupfs::write(dir_ + "/cpuset.mems", c.mems));
  }
  if (r.pids)
    STACK_TRY(cgroupfs::write(dir_ + "/pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"));
  if (!r.devices.empty()) STACK_TRY_CTX(set_device_filter(dir_, r.devices), "linux.resources.devices");
  if (r.block_io && block_io_requested(*r.block_io)) STACK_TRY(set_io_v2(dir_, *r.block_io));
  if (!r.hugepage_limits.empty()) STACK_TRY(set_hugetlb_v2(dir_, r.hugepage_limits));
  // The raw map last, so it can override what the typed fields wrote.
  for (const auto& [key, value] : r.unified) {
    auto w = cgroupfs::write(dir_ + "/" + key, value);
    if (!w) return tl::unexpected(w.error().wrap("linux.resources.unified[\"" + key + "\"]"));
  }
  return {};
}

Result<> CgroupV2Manager::add_pid(pid_t pid) {
  auto r = cgroupfs::write(dir_ + "/cgroup.procs", std::to_string(pid));
  if (!r) return tl::unexpected(r.error().wrap("add pid " + std::to_string(pid) + " to cgroup " + path_));
  return {};
}

std::vector<std::string> CgroupV2Manager::procs_files() const { return {dir_ + "/cgroup.procs"}; }

Result<std::vector<pid_t>> CgroupV2Manager::pids() const { return cgroupfs::procs_recursive(dir_); }

Result<CgroupStats> CgroupV2Manager::stats() const {
  CgroupStats s;
  const std::string ctx = "stats of cgroup " + path_;
  // Files of a controller not enabled here are absent: their stats stay 0.
  auto optional_read = [&](const std::string& name) -> Result<std::optional<std::string>> {
    auto t = cgroupfs::read(dir_ + "/" + name);
    if (t) return std::optional<std::string>(*t);
    if (t.error().code == ENOENT && cgroupfs::exists(dir_)) return std::optional<std::string>{};
    return tl::unexpected(t.error().wrap(ctx));
  };
  auto u64 = [&](const std::string& name, uint64_t& into) -> Result<> {
    if (!cgroupfs::exists(dir_ + "/" + name)) return {};
    auto v = cgroupfs::read_u64(dir_ + "/" + name);
    if (!v) return tl::unexpected(v.error().wrap(ctx));
    into = *v;
    return {};
  };
  auto limit = [&](const std::string& name, std::optional<int64_t>& into) -> Result<> {
    if (!cgroupfs::exists(dir_ + "/" + name)) return {};
    auto v = cgroupfs::read_limit(dir_ + "/" + name);
    if (!v) return tl::unexpected(v.error().wrap(ctx));
    into = *v;
    return {};
  };
  auto cpu = optional_read("cpu.stat");  // core file: present even without the cpu controller
  if (!cpu) return tl::unexpected(cpu.error());
  if (!*cpu) return fail(ctx + ": " + dir_ + "/cpu.stat missing", ENOENT);
  s.cpu_usage_ns = cgroupfs::keyed_value(**cpu, "usage_usec").value_or(0) * 1000;
  STACK_TRY(u64("memory.current", s.memory_usage));
  STACK_TRY(u64("memory.peak", s.memory_max_usage));  // kernel >= 5.19
  STACK_TRY(limit("memory.max", s.memory_limit));
  auto mstat = optional_read("memory.stat");
  if (!mstat) return tl::unexpected(mstat.error());
  if (*mstat) s.memory_inactive_file = cgroupfs::keyed_value(**mstat, "inactive_file").value_or(0);
  auto events = optional_read("memory.events");
  if (!events) return tl::unexpected(events.error());
  if (*events) {
    s.oom_kills = cgroupfs::keyed_value(**events, "oom_kill").value_or(0);
    s.oom_events = cgroupfs::keyed_value(**events, "oom").value_or(0);
  }
  STACK_TRY(u64("pids.current", s.pids_current));
  STACK_TRY(limit("pids.max", s.pids_limit));
  return s;
}

Result<> CgroupV2Manager::freeze(bool frozen) {
  const std::string file = dir_ + "/cgroup.freeze";
  const std::string what = (frozen ? "freeze cgroup " : "thaw cgroup ") + path_;
  if (!cgroupfs::exists(file)) {
    if (!cgroupfs::exists(dir_)) return fail(what + ": " + dir_ + " does not exist", ENOENT);
    return fail(what + ": " + file + " absent (kernel older than 5.2)", EOPNOTSUPP);
  }
  auto w = cgroupfs::write(file, frozen ? "1" : "0");
  if (!w) return tl::unexpected(w.error().wrap(what));
  // The write only starts it; cgroup.events says when every task stopped.
  const uint64_t want = frozen ? 1 : 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    auto ev = cgroupfs::read(dir_ + "/cgroup.events");
    if (!ev) return tl::unexpected(ev.error().wrap(what));
    if (cgroupfs::keyed_value(*ev, "frozen") == want) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      if (frozen) (void)cgroupfs::write(file, "0");  // do not leave it half frozen
      return fail(what + ": " + dir_ + "/cgroup.events never reported frozen " + std::to_string(want), ETIMEDOUT);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Result<> CgroupV2Manager::destroy() {
  if (!cgroupfs::exists(dir_)) return {};
  // cgroup.kill (5.14+) kills the whole subtree atomically, frozen tasks and
  // racing forks included; per-pid SIGKILL is the fallback and the backstop.
  const std::string kill_file = dir_ + "/cgroup.kill";
  const bool has_kill = cgroupfs::exists(kill_file);
  auto kick = [&] {
    if (has_kill) (void)cgroupfs::write(kill_file, "1");
  };
  kick();
  auto killed = cgroupfs::kill_until_empty([this] { return cgroupfs::procs_recursive(dir_); }, kick, 2000,
                                           "cgroup " + path_);
  if (!killed) return tl::unexpected(killed.error().wrap("destroy cgroup " + path_));
  auto r = cgroupfs::remove_tree(dir_);
  if (!r) return tl::unexpected(r.error().wrap("destroy cgroup " + path_));
  return {};
}

std::vector<CgroupHierarchy> CgroupV2Manager::hierarchies() const {
  return {CgroupHierarchy{mount_point_, dir_, {}, true}};
}

}  // namespace stack::rt
