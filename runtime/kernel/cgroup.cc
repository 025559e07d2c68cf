// Layout detection, path resolution, the factory (with the hybrid
// composition) and the file helpers both backends share.
#include "runtime/kernel/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/kernel/cgroup_v1.h"
#include "runtime/kernel/cgroup_v2.h"
#include "runtime/kernel/device_filter.h"
#include "base/fd.h"
#include "runtime/kernel/mountinfo.h"

namespace stack::rt {

namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

// v1 controller names as they appear in a cgroup mount's super options;
// everything else there (rw, clone_children, release_agent=...) is an option.
bool is_v1_controller(const std::string& opt) {
  static const std::set<std::string> known = {
      "cpu",     "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls", "net_prio",
      "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc",    "debug"};
  return known.count(opt) > 0 || opt.rfind("name=", 0) == 0;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

bool under_cgroup_root(const std::string& mount_point) {
  return mount_point == kCgroupRoot || mount_point.rfind(std::string(kCgroupRoot) + "/", 0) == 0;
}

CgroupLayout probe_layout() {
  struct statfs st {};
  if (::statfs(kCgroupRoot, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) return CgroupLayout::V2;
  auto mounts = read_cgroup_mounts();
  if (!mounts) return CgroupLayout::V1;
  bool v1 = false, v2 = false;
  for (const auto& m : *mounts) (m.v2 ? v2 : v1) = true;
  if (v1 && v2) return CgroupLayout::Hybrid;
  // cgroup2 mounted somewhere other than /sys/fs/cgroup and no v1 at all.
  if (v2) return CgroupLayout::V2;
  return CgroupLayout::V1;
}

// Hybrid hosts: v1 does every controller; the same path in the unified
// hierarchy (which has no controllers there) only tracks the processes, so
// systemd-style tools that read cgroup2 see the container. runc does the same.
class HybridCgroupManager final : public CgroupManager {
 public:
  HybridCgroupManager(std::unique_ptr<CgroupV1Manager> v1, std::unique_ptr<CgroupV2Manager> unified)
      : v1_(std::move(v1)), unified_(std::move(unified)) {}

  Result<> create(const Resources& resources) override {
    STACK_TRY(v1_->create(resources));
    auto r = unified_->create(Resources{});
    // Tracking is a convenience, not a limit: a read-only or foreign unified
    // mount (some nested setups) must not stop the container.
    if (!r && !tolerable(r.error())) return r;
    tracking_ = r.has_value();
    guard_unified_devices(resources);
    return {};
  }
  Result<> apply(const Resources& resources) override {
    STACK_TRY(v1_->apply(resources));
    guard_unified_devices(resources);
    return {};
  }
  Result<> add_pid(pid_t pid) override {
    STACK_TRY(v1_->add_pid(pid));
    if (!tracking_) return {};
    auto r = unified_->add_pid(pid);
    if (!r && !tolerable(r.error())) return r;
    return {};
  }
  std::vector<std::string> procs_files() const override {
    auto files = v1_->procs_files();
    if (tracking_) {
      auto more = unified_->procs_files();
      files.insert(files.end(), more.begin(), more.end());
    }
    return files;
  }
  Result<std::vector<pid_t>> pids() const override { return v1_->pids(); }
  Result<CgroupStats> stats() const override { return v1_->stats(); }
  Result<> freeze(bool frozen) override { return v1_->freeze(frozen); }
  Result<> destroy() override {
    // Both, even when one fails, so as little as possible is left behind.
    auto a = v1_->destroy();
    auto b = unified_->destroy();
    if (!a) return a;
    if (!b && !tolerable(b.error())) return b;
    return {};
  }
  const std::string& path() const override { return v1_->path(); }
  CgroupLayout layout() const override { return CgroupLayout::Hybrid; }
  std::vector<CgroupHierarchy> hierarchies() const override {
    auto h = v1_->hierarchies();
    if (tracking_) {
      auto u = unified_->hierarchies();
      h.insert(h.end(), u.begin(), u.end());
    }
    return h;
  }

 private:
  // The v1 devices controller enforces the rules; the same rules as a v2
  // device program on the unified cgroup are a second lock the kernel also
  // consults (and keep the v2 path exercised on hybrid hosts). Best effort:
  // nested setups may refuse BPF, and v1 already holds.
  void guard_unified_devices(const Resources& resources) {
    if (tracking_ && !resources.devices.empty()) (void)set_device_filter(unified_->dir(), resources.devices);
  }
  static bool tolerable(const Error& e) {
    return e.code == EROFS || e.code == EACCES || e.code == EPERM;
  }
  std::unique_ptr<CgroupV1Manager> v1_;
  std::unique_ptr<CgroupV2Manager> unified_;
  bool tracking_ = true;  // false once the unified side refused us
};

}  // namespace

CgroupLayout detect_cgroup_layout() {
  static const CgroupLayout layout = probe_layout();
  return layout;
}

const char* to_string(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::V1: return "v1";
    case CgroupLayout::V2: return "v2";
    case CgroupLayout::Hybrid: return "hybrid";
  }
  return "unknown";
}

Result<std::string> resolve_cgroup_path(const std::string& cgroups_path, const std::string& id) {
  const std::string what = "cgroupsPath \"" + cgroups_path + "\"";
  std::string raw;
  if (cgroups_path.empty()) {
    if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..")
      return fail("cgroup path for container id \"" + id + "\": id must be a single path component", EINVAL);
    raw = "/stack/" + id;
  } else if (cgroups_path[0] == '/') {
    raw = cgroups_path;
  } else if (std::count(cgroups_path.begin(), cgroups_path.end(), ':') == 2) {
    auto parts = split(cgroups_path + ":", ':');  // trailing ':' keeps an empty last part
    std::string slice = parts[0], prefix = parts[1], name = parts[2];
    if (name.empty()) return fail(what + ": systemd-style path needs a name (slice:prefix:name)", EINVAL);
    if (slice.empty()) slice = "system.slice";
    for (const auto& p : {slice, prefix, name})
      if (p.find('/') != std::string::npos)
        return fail(what + ": systemd-style parts may not contain '/'", EINVAL);
    raw = "/" + slice + "/" + (prefix.empty() ? name : prefix + "-" + name) + ".scope";
  } else {
    raw = "/stack/" + cgroups_path;
  }
  std::string out;
  for (const auto& part : split(raw, '/')) {
    if (part.empty()) continue;
    if (part == "." || part == "..")
      return fail(what + ": \".\" and \"..\" are not allowed in a cgroup path", EINVAL);
    out += "/" + part;
  }
  if (out.empty()) return fail(what + ": resolves to the hierarchy root, which is shared by every process", EINVAL);
  return out;
}

uint64_t cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

Result<int64_t> memory_swap_to_v2(int64_t swap, int64_t limit) {
  if (limit == -1 && swap == 0) return -1;         // no memory limit: no swap limit either
  if (swap == -1 || swap == 0) return swap;        // unlimited, or unset
  if (limit == 0 || limit == -1)
    return fail("memory.swap " + std::to_string(swap) + ": a swap limit needs a memory limit", EINVAL);
  if (limit < 0) return fail("memory.limit " + std::to_string(limit) + ": invalid", EINVAL);
  if (swap < limit)
    return fail("memory.swap " + std::to_string(swap) + " is below memory.limit " + std::to_string(limit) +
                    " (swap is memory+swap)",
                EINVAL);
  return swap - limit;
}

std::vector<CgroupMount> parse_cgroup_mounts(const std::string& mountinfo) {
  std::vector<CgroupMount> out;
  std::istringstream in(mountinfo);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    for (std::string w; ls >> w;) f.push_back(w);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || f.end() - dash < 4) continue;
    const std::string& fstype = *(dash + 1);
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupMount m;
    m.device = f[2];
    m.root = unescape_mountinfo(f[3]);
    m.mount_point = unescape_mountinfo(f[4]);
    m.v2 = fstype == "cgroup2";
    if (!m.v2)
      for (const auto& opt : split(*(dash + 3), ','))
        if (is_v1_controller(opt)) m.controllers.push_back(opt);
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<CgroupMount>> read_cgroup_mounts() {
  auto text = cgroupfs::read("/proc/self/mountinfo");
  if (!text) return tl::unexpected(text.error());
  return parse_cgroup_mounts(*text);
}

std::vector<CgroupMount> select_v1_hierarchies(const std::vector<CgroupMount>& mounts) {
  std::vector<CgroupMount> out;
  for (const auto& m : mounts) {
    if (m.v2 || m.controllers.empty()) continue;
    auto same = std::find_if(out.begin(), out.end(), [&](const CgroupMount& o) { return o.device == m.device; });
    if (same == out.end()) {
      out.push_back(m);
    } else if (!under_cgroup_root(same->mount_point) && under_cgroup_root(m.mount_point)) {
      *same = m;  // the same hierarchy seen again, at the canonical place
    }
  }
  return out;
}

std::optional<CgroupMount> select_v2_mount(const std::vector<CgroupMount>& mounts) {
  const CgroupMount* best = nullptr;
  auto rank = [](const CgroupMount& m) {
    if (m.mount_point == kCgroupRoot) return 0;
    if (under_cgroup_root(m.mount_point)) return 1;
    return 2;
  };
  for (const auto& m : mounts)
    if (m.v2 && (!best || rank(m) < rank(*best))) best = &m;
  if (!best) return std::nullopt;
  return *best;
}

Result<std::unique_ptr<CgroupManager>> make_cgroup_manager(const std::string& cgroups_path,
                                                           const std::string& id) {
  auto path = resolve_cgroup_path(cgroups_path, id);
  if (!path) return tl::unexpected(path.error());
  auto mounts = read_cgroup_mounts();
  if (!mounts) return tl::unexpected(mounts.error().wrap("find cgroup hierarchies"));
  const CgroupLayout layout = detect_cgroup_layout();
  auto v2 = select_v2_mount(*mounts);
  auto v1 = select_v1_hierarchies(*mounts);
  if (layout == CgroupLayout::V2) {
    if (!v2) return fail("cgroup v2 host but no cgroup2 mount in /proc/self/mountinfo", ENOENT);
    return std::unique_ptr<CgroupManager>(std::make_unique<CgroupV2Manager>(v2->mount_point, *path));
  }
  if (v1.empty()) return fail("no cgroup v1 hierarchy in /proc/self/mountinfo", ENOENT);
  auto v1m = std::make_unique<CgroupV1Manager>(std::move(v1), *path);
  if (layout == CgroupLayout::Hybrid && v2) {
    auto tracking = std::make_unique<CgroupV2Manager>(v2->mount_point, *path, /*manage_resources=*/false);
    return std::unique_ptr<CgroupManager>(
        std::make_unique<HybridCgroupManager>(std::move(v1m), std::move(tracking)));
  }
  return std::unique_ptr<CgroupManager>(std::move(v1m));
}

// ---------------------------------------------------------------------------

namespace cgroupfs {

namespace {
struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}
}  // namespace

Result<std::vector<std::string>> subdirs(const std::string& dir) {
  DirPtr d(::opendir(dir.c_str()));
  if (!d) {
    if (errno == ENOENT) return std::vector<std::string>{};
    return fail_errno("list " + dir);
  }
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || e->d_type != DT_DIR) continue;
    out.push_back(dir + "/" + name);
  }
  return out;
}

Result<std::string> read(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + path);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<> write(const std::string& path, const std::string& value) {
  const std::string what = "write " + value + " to " + path;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return fail_errno(what);
  ssize_t n;
  do n = ::write(fd.get(), value.data(), value.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail_errno(what);
  if (static_cast<size_t>(n) != value.size()) return fail(what + ": short write", EIO);
  return {};
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

Result<std::optional<int64_t>> read_limit(const std::string& path) {
  auto text = read(path);
  if (!text) return tl::unexpected(text.error());
  std::string v = trim(*text);
  if (v == "max") return std::optional<int64_t>{};
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return fail("parse \"" + v + "\" from " + path, EINVAL);
  return std::optional<int64_t>{n};
}

Result<uint64_t> read_u64(const std::string& path) {
  auto text = read(path);
  if (!text) return tl::unexpected(text.error());
  std::string v = trim(*text);
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return fail("parse \"" + v + "\" from " + path, EINVAL);
  return n;
}

std::optional<uint64_t> keyed_value(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string k;
    uint64_t v = 0;
    if (ls >> k >> v && k == key) return v;
  }
  return std::nullopt;
}

Result<> make_dirs(const std::string& mount_point, const std::string& rel,
                   const std::function<Result<>(const std::string&)>& on_dir) {
  // A parent removed by a concurrent delete of its last child (see
  // remove_default_parent) shows up as ENOENT: walk again from the top.
  for (int attempt = 0;; attempt++) {
    std::string cur = mount_point;
    bool retry = false;
    for (const auto& part : split(rel, '/')) {
      if (part.empty()) continue;
      cur += "/" + part;
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        if (errno == ENOENT && attempt < 5) {
          retry = true;
          break;
        }
        return fail_errno("mkdir " + cur);
      }
      if (on_dir) STACK_TRY(on_dir(cur));
    }
    if (!retry) return {};
  }
}

Result<std::vector<pid_t>> procs_recursive(const std::string& dir) {
  std::vector<pid_t> out;
  auto text = read(dir + "/cgroup.procs");
  if (!text) {
    if (text.error().code == ENOENT) return out;  // gone already
    return tl::unexpected(text.error());
  }
  std::istringstream in(*text);
  for (long p; in >> p;) out.push_back(static_cast<pid_t>(p));
  auto subs = subdirs(dir);
  if (!subs) return tl::unexpected(subs.error());
  for (const auto& s : *subs) {
    auto more = procs_recursive(s);
    if (!more) return more;
    out.insert(out.end(), more->begin(), more->end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<> remove_tree(const std::string& dir, int timeout_ms) {
  auto subs = subdirs(dir);
  if (!subs) return tl::unexpected(subs.error());
  for (const auto& s : *subs) STACK_TRY(remove_tree(s, timeout_ms));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || std::chrono::steady_clock::now() >= deadline) return fail_errno("rmdir " + dir);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<> kill_until_empty(const std::function<Result<std::vector<pid_t>>()>& list,
                          const std::function<void()>& kick, int timeout_ms, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto pids = list();
    if (!pids) return tl::unexpected(pids.error());
    if (pids->empty()) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string left;
      for (pid_t p : *pids) left += " " + std::to_string(p);
      return fail("kill processes in " + what + ": still there after " + std::to_string(timeout_ms) +
                      " ms:" + left,
                  EBUSY);
    }
    for (pid_t p : *pids) {
      // Never take the caller down with the container (a misuse, but a
      // confusing one to debug).
      if (p == ::getpid()) return fail("kill processes in " + what + ": it contains this process", EBUSY);
      if (::kill(p, SIGKILL) != 0 && errno != ESRCH) return fail_errno("kill " + std::to_string(p) + " in " + what);
    }
    if (kick) kick();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace cgroupfs

}  // namespace stack::rt
