// The cgroup managers against the real kernel. Every test works below a
// top-level cgroup unique to it ("/stack-test-<pid>-<n>"), which TearDown
// kills and removes in every hierarchy even when an assertion failed.
//
// CgroupTest uses make_cgroup_manager(), i.e. the host's layout (v1 files on
// our hybrid CI host, plus the unified tracking dir). CgroupV2Test drives the
// v2 backend directly on a cgroup2 mount of its own; on a hybrid host that
// hierarchy has no controllers, so its limit tests skip with the reason.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "runtime/kernel/cgroup.h"
#include "runtime/kernel/cgroup_v2.h"
#include "runtime/kernel/fd.h"
#include "tests/support/bundle.h"

namespace stack::rt {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

// "4:memory:/x" for the suffix ":memory:/x" (hierarchy ids differ per host).
bool has_line_ending(const std::string& text, const std::string& suffix) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l.size() >= suffix.size() && l.compare(l.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
  return false;
}

bool dir_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string unique_root() {
  static std::atomic<int> n{0};
  return "/stack-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// user + system CPU ticks of a process, from /proc/<pid>/stat.
long cpu_ticks(pid_t pid) {
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

// A forked child that blocks until release(), so the test can put it into a
// cgroup before it does anything; then runs `body` and exits with its
// result. `report` is a pipe the body may write to. SIGKILLed and reaped on
// destruction; it also dies with the test process (PDEATHSIG).
class Child {
 public:
  explicit Child(const std::function<int(int report_fd)>& body) {
    int go[2], rep[2];
    if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(rep, O_CLOEXEC) != 0) return;
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) _exit(111);
      ::close(go[1]);
      ::close(rep[0]);
      char c;
      ssize_t n;
      do n = ::read(go[0], &c, 1);
      while (n < 0 && errno == EINTR);
      if (n != 1) _exit(111);  // the test went away without releasing us
      _exit(body(rep[1]));
    }
    ::close(go[0]);
    ::close(rep[1]);
    go_.reset(go[1]);
    report_.reset(rep[0]);
  }
  ~Child() {
    if (pid_ <= 0 || reaped_) return;
    ::kill(pid_, SIGKILL);
    // Bounded: a child left frozen by a failed test cannot die until
    // TearDown thaws its cgroup (and reaps it, see reap_children).
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) != 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  pid_t pid() const { return pid_; }
  void release() {
    ssize_t n = ::write(go_.get(), "g", 1);
    (void)n;
    go_.reset();
  }
  // Reads what the body wrote, up to EOF or `max` bytes.
  std::string read_report(size_t max) {
    std::string out;
    char buf[256];
    while (out.size() < max) {
      ssize_t n = ::read(report_.get(), buf, std::min(sizeof buf, max - out.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Raw wait status.
  int wait() {
    int st = 0;
    ::waitpid(pid_, &st, 0);
    reaped_ = true;
    return st;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  UniqueFd go_, report_;
};

// Thaws `dir` and every sub-cgroup (v1 freezer.state, v2 cgroup.freeze).
void thaw_all(const std::string& dir) {
  if (cgroupfs::exists(dir + "/freezer.state")) (void)cgroupfs::write(dir + "/freezer.state", "THAWED");
  if (cgroupfs::exists(dir + "/cgroup.freeze")) (void)cgroupfs::write(dir + "/cgroup.freeze", "0");
  if (auto subs = cgroupfs::subdirs(dir))
    for (const auto& s : *subs) thaw_all(s);
}

// Reaps children a failed test left behind.
void reap_children() {
  for (int i = 0; i < 200; ++i) {
    pid_t p = ::waitpid(-1, nullptr, WNOHANG);
    if (p < 0) return;  // ECHILD: none left
    if (p == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Kills whatever is left below `root` in every mounted hierarchy and removes
// it: the safety net behind destroy(), which is itself under test.
void scrub(const std::string& root) {
  auto mounts = read_cgroup_mounts();
  if (!mounts) return;
  std::vector<std::string> points;
  for (const auto& m : select_v1_hierarchies(*mounts)) points.push_back(m.mount_point);
  for (const auto& m : *mounts)
    if (m.v2) points.push_back(m.mount_point);
  for (const auto& p : points) {
    const std::string dir = p + root;
    if (!dir_exists(dir)) continue;
    (void)cgroupfs::kill_until_empty([&] { return cgroupfs::procs_recursive(dir); }, [&] { thaw_all(dir); });
    (void)cgroupfs::remove_tree(dir);
  }
  reap_children();
}

// The directory of the hierarchy that carries `controller` (v1), or the
// unified one when `controller` is "" or the layout is v2.
std::string dir_for(const CgroupManager& m, const std::string& controller) {
  for (const auto& h : m.hierarchies()) {
    if (m.layout() == CgroupLayout::V2 && h.unified) return h.dir;
    if (controller.empty() ? h.unified
                           : std::count(h.controllers.begin(), h.controllers.end(), controller) > 0)
      return h.dir;
  }
  return "";
}

// ---------------------------------------------------------------------------
// Behaviours shared by both fixtures, run against any manager.

// A child in a cgroup with pids.max=5 forks until the kernel refuses: it and
// four children fit, the fifth fork fails with EAGAIN.
void expect_pids_limit_enforced(CgroupManager& m) {
  Resources r;
  r.pids = PidsResources{5};
  ASSERT_TRUE(m.create(r).has_value());
  Child c([](int report) {
    int forked = 0, err = 0;
    for (int i = 0; i < 64; ++i) {  // bounded even if the limit failed
      pid_t p = ::fork();
      if (p < 0) {
        err = errno;
        break;
      }
      if (p == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::pause();
        _exit(0);
      }
      ++forked;
    }
    int out[2] = {forked, err};
    ssize_t n = ::write(report, out, sizeof out);
    (void)n;
    ::pause();
    return 0;
  });
  auto added = m.add_pid(c.pid());
  ASSERT_TRUE(added.has_value()) << added.error().message();
  c.release();
  std::string rep = c.read_report(2 * sizeof(int));
  ASSERT_EQ(rep.size(), 2 * sizeof(int));
  int out[2];
  std::memcpy(out, rep.data(), sizeof out);
  EXPECT_EQ(out[0], 4) << "forks that succeeded under pids.max=5 (the child itself is the 5th)";
  EXPECT_EQ(out[1], EAGAIN) << std::strerror(out[1]);
  auto pids = m.pids();
  ASSERT_TRUE(pids.has_value());
  EXPECT_EQ(pids->size(), 5u);
  auto st = m.stats();
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(st->pids_current, 5u);
  EXPECT_EQ(st->pids_limit, 5);
}

// A child that touches 64 MiB in a 16 MiB cgroup is OOM-killed.
void expect_oom_kill(CgroupManager& m) {
  Resources r;
  // memory+swap == memory: no swap, so the child cannot escape to swap on a
  // host that has it (no effect where swap accounting is off).
  r.memory = MemoryResources{16 << 20, std::nullopt, 16 << 20, std::nullopt, std::nullopt};
  auto created = m.create(r);
  ASSERT_TRUE(created.has_value()) << created.error().message();
  Child c([](int) {
    const size_t size = 64 << 20;
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    std::memset(p, 1, size);
    return 0;  // survived: the limit did not hold
  });
  ASSERT_TRUE(m.add_pid(c.pid()).has_value());
  c.release();
  int st = c.wait();
  ASSERT_TRUE(WIFSIGNALED(st)) << "child exited with " << (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  EXPECT_EQ(WTERMSIG(st), SIGKILL);
  auto stats = m.stats();
  ASSERT_TRUE(stats.has_value()) << stats.error().message();
  EXPECT_GE(stats->oom_kills, 1u);
  EXPECT_GE(stats->oom_events, 1u);
  EXPECT_EQ(stats->memory_limit, 16 << 20);
}

// A busy child stops using CPU while frozen and resumes after thaw; the
// kernel's own state file agrees.
void expect_freeze_thaw(CgroupManager& m, const std::string& state_file,
                        const std::function<bool(const std::string&)>& is_frozen) {
  ASSERT_TRUE(m.create(Resources{}).has_value());
  Child c([](int) {
    volatile unsigned long spin = 0;
    for (;;) spin = spin + 1;
    return 0;
  });
  ASSERT_TRUE(m.add_pid(c.pid()).has_value());
  c.release();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  auto f = m.freeze(true);
  ASSERT_TRUE(f.has_value()) << f.error().message();
  EXPECT_TRUE(is_frozen(slurp(state_file))) << state_file << ": " << slurp(state_file);
  long a = cpu_ticks(c.pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(cpu_ticks(c.pid()), a) << "a frozen process kept running";

  auto t = m.freeze(false);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_FALSE(is_frozen(slurp(state_file))) << slurp(state_file);
  long b = cpu_ticks(c.pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_GT(cpu_ticks(c.pid()), b) << "a thawed process did not run";
  auto st = m.stats();
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_GT(st->cpu_usage_ns, 100'000'000u) << "the busy child ran >= 0.4 s in the cgroup";
}

// destroy() kills a live process (also one frozen, also one in a sub-cgroup
// the container made), removes every directory, and is idempotent.
void expect_destroy_cleans_up(CgroupManager& m, bool freeze_first) {
  ASSERT_TRUE(m.create(Resources{}).has_value());
  Child c([](int) {
    ::pause();
    return 0;
  });
  Child nested([](int) {
    ::pause();
    return 0;
  });
  ASSERT_TRUE(m.add_pid(c.pid()).has_value());
  // What a container running its own cgroup manager would do.
  for (const auto& h : m.hierarchies()) {
    const std::string sub = h.dir + "/inner";
    ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0) << sub << ": " << std::strerror(errno);
    if (cgroupfs::exists(sub + "/cpuset.cpus")) {
      for (const char* f : {"/cpuset.cpus", "/cpuset.mems"}) {
        ASSERT_TRUE(cgroupfs::write(sub + f, slurp(h.dir + f)).has_value());
      }
    }
    ASSERT_TRUE(cgroupfs::write(sub + "/cgroup.procs", std::to_string(nested.pid())).has_value());
  }
  c.release();
  nested.release();
  if (freeze_first) {
    ASSERT_TRUE(m.freeze(true).has_value());
    // Also frozen on its own, so thawing the parent alone would not free it.
    for (const auto& h : m.hierarchies()) {
      const std::string sub = h.dir + "/inner";
      if (cgroupfs::exists(sub + "/freezer.state")) {
        ASSERT_TRUE(cgroupfs::write(sub + "/freezer.state", "FROZEN"));
      }
      if (cgroupfs::exists(sub + "/cgroup.freeze")) {
        ASSERT_TRUE(cgroupfs::write(sub + "/cgroup.freeze", "1"));
      }
    }
  }

  auto d = m.destroy();
  ASSERT_TRUE(d.has_value()) << d.error().message();
  for (Child* ch : {&c, &nested}) {
    int st = ch->wait();
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "status " << st;
  }
  for (const auto& h : m.hierarchies()) EXPECT_FALSE(dir_exists(h.dir)) << h.dir << " left behind";
  auto again = m.destroy();
  EXPECT_TRUE(again.has_value()) << again.error().message();
}

// ---------------------------------------------------------------------------

class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    root_ = unique_root();
    auto m = make_cgroup_manager(root_ + "/c", "unused");
    ASSERT_TRUE(m.has_value()) << m.error().message();
    mgr_ = std::move(*m);
  }
  void TearDown() override {
    if (root_.empty()) return;
    if (mgr_) (void)mgr_->destroy();
    scrub(root_);
  }
  std::string file(const std::string& controller, const std::string& name) const {
    return dir_for(*mgr_, controller) + "/" + name;
  }
  bool v2() const { return mgr_->layout() == CgroupLayout::V2; }

  std::string root_;
  std::unique_ptr<CgroupManager> mgr_;
};

TEST_F(CgroupTest, LayoutMatchesTheHost) {
  EXPECT_EQ(mgr_->layout(), detect_cgroup_layout());
  EXPECT_EQ(mgr_->path(), root_ + "/c");
  auto hs = mgr_->hierarchies();
  ASSERT_FALSE(hs.empty());
  const bool has_unified = std::any_of(hs.begin(), hs.end(), [](const auto& h) { return h.unified; });
  EXPECT_EQ(has_unified, detect_cgroup_layout() != CgroupLayout::V1);
  for (const auto& h : hs) EXPECT_EQ(h.dir, h.mount_point + root_ + "/c");
}

TEST_F(CgroupTest, CreateWritesLimitsTheKernelHolds) {
  Resources r;
  r.memory = MemoryResources{32 << 20, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  r.cpu = CpuResources{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.pids = PidsResources{10};
  auto c = mgr_->create(r);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  if (v2()) {
    EXPECT_EQ(slurp(file("memory", "memory.max")), "33554432");
    EXPECT_EQ(slurp(file("cpu", "cpu.max")), "50000 100000");
    EXPECT_EQ(slurp(file("cpu", "cpu.weight")), "20");
    EXPECT_EQ(slurp(file("pids", "pids.max")), "10");
  } else {
    EXPECT_EQ(slurp(file("memory", "memory.limit_in_bytes")), "33554432");
    EXPECT_EQ(slurp(file("cpu", "cpu.cfs_quota_us")), "50000");
    EXPECT_EQ(slurp(file("cpu", "cpu.cfs_period_us")), "100000");
    EXPECT_EQ(slurp(file("cpu", "cpu.shares")), "512");
    EXPECT_EQ(slurp(file("pids", "pids.max")), "10");
  }
  auto st = mgr_->stats();
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(st->memory_limit, 32 << 20);
  EXPECT_EQ(st->pids_limit, 10);
  EXPECT_EQ(st->pids_current, 0u);

  // `update`: raise memory, lift the pids limit, halve the quota.
  Resources u;
  u.memory = MemoryResources{64 << 20, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  u.cpu = CpuResources{};
  u.cpu->quota = 25000;
  u.pids = PidsResources{0};
  auto a = mgr_->apply(u);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  st = mgr_->stats();
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->memory_limit, 64 << 20);
  EXPECT_FALSE(st->pids_limit.has_value());
  EXPECT_EQ(slurp(file("cpu", v2() ? "cpu.max" : "cpu.cfs_quota_us")), v2() ? "25000 100000" : "25000");
}

TEST_F(CgroupTest, CpusetIsInheritedSoProcessesCanJoinAndCanBeNarrowed) {
  if (v2()) GTEST_SKIP() << "v1 cpuset initialisation";
  ASSERT_TRUE(mgr_->create(Resources{}).has_value());
  std::string host_cpus;
  for (const auto& h : mgr_->hierarchies())
    if (std::count(h.controllers.begin(), h.controllers.end(), "cpuset")) host_cpus = slurp(h.mount_point + "/cpuset.cpus");
  ASSERT_FALSE(host_cpus.empty());
  EXPECT_EQ(slurp(file("cpuset", "cpuset.cpus")), host_cpus);
  Resources r;
  r.cpu = CpuResources{};
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  auto a = mgr_->apply(r);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(slurp(file("cpuset", "cpuset.cpus")), "0");
  Child c([](int) {
    ::pause();
    return 0;
  });
  ASSERT_TRUE(mgr_->add_pid(c.pid()).has_value());
  std::string status = slurp("/proc/" + std::to_string(c.pid()) + "/status");
  EXPECT_NE(status.find("Cpus_allowed_list:\t0\n"), std::string::npos) << status;
}

TEST_F(CgroupTest, V1DeviceRulesEndUpInDevicesList) {
  if (v2()) GTEST_SKIP() << "v2 device rules need eBPF and are not implemented";
  Resources r;
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"},
               {true, "c", 1, 3, "rwm"},
               {true, "c", std::nullopt, std::nullopt, "m"}};
  auto c = mgr_->create(r);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  std::string list = slurp(file("devices", "devices.list"));
  EXPECT_NE(list.find("c 1:3 rwm"), std::string::npos) << list;
  EXPECT_NE(list.find("c *:* m"), std::string::npos) << list;
  EXPECT_EQ(list.find("a *:* rwm"), std::string::npos) << "still allow-all: " << list;
}

TEST_F(CgroupTest, UnifiedMapIsRefusedOnV1BeforeAnythingIsMade) {
  if (v2()) GTEST_SKIP() << "v1/hybrid only";
  Resources r;
  r.unified["memory.high"] = "1000000";
  auto c = mgr_->create(r);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, EINVAL);
  EXPECT_NE(c.error().message().find("unified"), std::string::npos) << c.error().message();
  for (const auto& h : mgr_->hierarchies()) EXPECT_FALSE(dir_exists(h.dir)) << h.dir;
}

TEST_F(CgroupTest, AddedChildIsListedInEveryHierarchy) {
  ASSERT_TRUE(mgr_->create(Resources{}).has_value());
  Child c([](int) {
    ::pause();
    return 0;
  });
  auto a = mgr_->add_pid(c.pid());
  ASSERT_TRUE(a.has_value()) << a.error().message();
  auto pids = mgr_->pids();
  ASSERT_TRUE(pids.has_value()) << pids.error().message();
  EXPECT_EQ(*pids, std::vector<pid_t>{c.pid()});
  auto files = mgr_->procs_files();
  EXPECT_EQ(files.size(), mgr_->hierarchies().size());
  for (const auto& f : files) EXPECT_EQ(slurp(f), std::to_string(c.pid())) << f;
  // What the process itself (and tools like systemd) see.
  std::string self = slurp("/proc/" + std::to_string(c.pid()) + "/cgroup");
  if (!v2()) {
    EXPECT_TRUE(has_line_ending(self, ":memory:" + root_ + "/c")) << self;
  }
  if (mgr_->layout() != CgroupLayout::V1) {
    EXPECT_TRUE(has_line(self, "0::" + root_ + "/c")) << "not tracked in cgroup2: " << self;
  }
}

TEST_F(CgroupTest, PidsLimitStopsForks) { expect_pids_limit_enforced(*mgr_); }

TEST_F(CgroupTest, MemoryLimitOomKills) { expect_oom_kill(*mgr_); }

TEST_F(CgroupTest, FreezeStopsAndThawResumes) {
  if (v2())
    expect_freeze_thaw(*mgr_, file("", "cgroup.events"),
                       [](const std::string& s) { return s.find("frozen 1") != std::string::npos; });
  else
    expect_freeze_thaw(*mgr_, file("freezer", "freezer.state"), [](const std::string& s) { return s == "FROZEN"; });
}

TEST_F(CgroupTest, DestroyKillsAndRemovesEverything) { expect_destroy_cleans_up(*mgr_, false); }

TEST_F(CgroupTest, DestroyKillsAFrozenCgroup) { expect_destroy_cleans_up(*mgr_, true); }

TEST_F(CgroupTest, DestroyOfANeverCreatedCgroupSucceeds) {
  auto d = mgr_->destroy();
  EXPECT_TRUE(d.has_value()) << d.error().message();
}

// ---------------------------------------------------------------------------

// The v2 backend on a cgroup2 mount of our own: mounted fresh at a temporary
// directory when the kernel lets us (the same hierarchy as the host's, seen
// from a mount point no code hardcodes), else the host's cgroup2 mount.
class CgroupV2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    char tmpl[] = "/tmp/stack-cg2-XXXXXX";
    if (::mkdtemp(tmpl)) {
      mount_dir_ = tmpl;
      if (::mount("cgroup2", tmpl, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0) {
        mounted_ = true;
        mount_point_ = tmpl;
      }
    }
    if (!mounted_) {
      auto mounts = read_cgroup_mounts();
      auto v2 = mounts ? select_v2_mount(*mounts) : std::nullopt;
      if (!v2) GTEST_SKIP() << "no cgroup2 mount and mounting one failed: " << std::strerror(errno);
      mount_point_ = v2->mount_point;
    }
    root_ = unique_root();
    auto sc = cgroupfs::read(mount_point_ + "/cgroup.subtree_control");
    root_subtree_ = sc ? *sc : "";
    mgr_ = std::make_unique<CgroupV2Manager>(mount_point_, root_ + "/c");
    // Probe: a kernel or sandbox that refuses us is a skip, not a failure.
    if (::mkdir((mount_point_ + root_).c_str(), 0755) != 0)
      GTEST_SKIP() << "cannot mkdir in cgroup2 at " << mount_point_ << ": " << std::strerror(errno);
  }
  void TearDown() override {
    if (mgr_) (void)mgr_->destroy();
    if (!root_.empty()) {
      scrub(root_);
      if (mounted_) (void)cgroupfs::remove_tree(mount_point_ + root_);
      // Give back controllers we enabled at the root; EBUSY while another
      // test still uses one is fine, that test's TearDown retries.
      auto now = cgroupfs::read(mount_point_ + "/cgroup.subtree_control");
      const auto before = words(root_subtree_);
      for (const auto& c : words(now ? *now : ""))
        if (std::find(before.begin(), before.end(), c) == before.end())
          (void)cgroupfs::write(mount_point_ + "/cgroup.subtree_control", "-" + c);
    }
    if (mounted_) ::umount2(mount_dir_.c_str(), MNT_DETACH);
    if (!mount_dir_.empty()) ::rmdir(mount_dir_.c_str());
  }
  // Skips unless every named controller can be enabled for our cgroup.
  bool have_controllers(const std::vector<std::string>& names, std::string* missing) {
    auto avail = cgroupfs::read(mount_point_ + "/cgroup.controllers");
    const auto have = words(avail ? *avail : "");
    for (const auto& n : names)
      if (std::find(have.begin(), have.end(), n) == have.end()) {
        std::string list;
        for (const auto& h : have) list += (list.empty() ? "" : " ") + h;
        *missing = "cgroup2 controller \"" + n + "\" not in " + mount_point_ + "/cgroup.controllers (\"" + list +
                   "\")" +
                   (detect_cgroup_layout() == CgroupLayout::Hybrid
                        ? ": on this hybrid host the controllers are bound to the v1 hierarchies"
                        : "");
        return false;
      }
    return true;
  }

  std::string mount_dir_, mount_point_, root_, root_subtree_;
  bool mounted_ = false;
  std::unique_ptr<CgroupV2Manager> mgr_;
};

TEST_F(CgroupV2Test, CreateAddPidAndDestroyWithCgroupKill) {
  auto c = mgr_->create(Resources{});
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_TRUE(dir_exists(mgr_->dir()));
  if (!cgroupfs::exists(mgr_->dir() + "/cgroup.kill")) GTEST_SKIP() << "no cgroup.kill (kernel < 5.14)";
  expect_destroy_cleans_up(*mgr_, false);
}

TEST_F(CgroupV2Test, AddedChildIsListed) {
  ASSERT_TRUE(mgr_->create(Resources{}).has_value());
  Child c([](int) {
    ::pause();
    return 0;
  });
  auto a = mgr_->add_pid(c.pid());
  ASSERT_TRUE(a.has_value()) << a.error().message();
  auto pids = mgr_->pids();
  ASSERT_TRUE(pids.has_value());
  EXPECT_EQ(*pids, std::vector<pid_t>{c.pid()});
  EXPECT_EQ(slurp(mgr_->procs_files().at(0)), std::to_string(c.pid()));
  std::string self = slurp("/proc/" + std::to_string(c.pid()) + "/cgroup");
  EXPECT_TRUE(has_line(self, "0::" + root_ + "/c")) << self;
  auto st = mgr_->stats();  // readable even without controllers
  EXPECT_TRUE(st.has_value()) << st.error().message();
}

TEST_F(CgroupV2Test, FreezeStopsAndThawResumes) {
  ASSERT_TRUE(mgr_->create(Resources{}).has_value());
  if (!cgroupfs::exists(mgr_->dir() + "/cgroup.freeze")) GTEST_SKIP() << "no cgroup.freeze (kernel < 5.2)";
  expect_freeze_thaw(*mgr_, mgr_->dir() + "/cgroup.events",
                     [](const std::string& s) { return s.find("frozen 1") != std::string::npos; });
}

TEST_F(CgroupV2Test, DestroyKillsAFrozenCgroup) {
  ASSERT_TRUE(mgr_->create(Resources{}).has_value());
  if (!cgroupfs::exists(mgr_->dir() + "/cgroup.freeze")) GTEST_SKIP() << "no cgroup.freeze";
  expect_destroy_cleans_up(*mgr_, true);
}

TEST_F(CgroupV2Test, UnifiedKeysThatAreNotFileNamesAreRefused) {
  for (const char* bad : {"../cgroup.procs", "a/b", "..", ""}) {
    Resources r;
    r.unified[bad] = "1";
    auto c = mgr_->create(r);
    ASSERT_FALSE(c.has_value()) << bad;
    EXPECT_EQ(c.error().code, EINVAL) << c.error().message();
    EXPECT_FALSE(dir_exists(mgr_->dir())) << "made " << mgr_->dir() << " for a refused spec";
  }
}

TEST_F(CgroupV2Test, LimitWithoutItsControllerIsAnErrorNotSilentlyIgnored) {
  std::string missing;
  if (have_controllers({"memory"}, &missing)) GTEST_SKIP() << "memory controller available here";
  Resources r;
  r.memory = MemoryResources{32 << 20, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  auto c = mgr_->create(r);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, EOPNOTSUPP);
  EXPECT_NE(c.error().message().find("\"memory\""), std::string::npos) << c.error().message();
}

// Ancestors delegate the controller a unified key needs, and the value lands.
// Uses whichever controller this host's cgroup2 offers: hugetlb is the one
// left to cgroup2 on a hybrid host.
TEST_F(CgroupV2Test, UnifiedKeyEnablesItsControllerInAncestorsAndIsWritten) {
  std::string missing, key, value, expect;
  if (have_controllers({"pids"}, &missing)) {
    key = "pids.max", value = "7", expect = "7";
  } else if (have_controllers({"hugetlb"}, &missing) && cgroupfs::exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) {
    key = "hugetlb.2MB.max", value = "4194304", expect = "4194304";
  } else {
    GTEST_SKIP() << "neither pids nor hugetlb (2 MB pages) in " << mount_point_ << "/cgroup.controllers";
  }
  Resources r;
  r.unified[key] = value;
  auto c = mgr_->create(r);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  const std::string controller = key.substr(0, key.find('.'));
  for (const auto& dir : {mount_point_, mount_point_ + root_}) {
    auto on = words(slurp(dir + "/cgroup.subtree_control"));
    EXPECT_NE(std::find(on.begin(), on.end(), controller), on.end()) << dir << " does not delegate " << controller;
  }
  EXPECT_EQ(slurp(mgr_->dir() + "/" + key), expect);
  // The leaf keeps its subtree_control empty: processes live there.
  EXPECT_EQ(slurp(mgr_->dir() + "/cgroup.subtree_control"), "");
  Child ch([](int) {
    ::pause();
    return 0;
  });
  auto a = mgr_->add_pid(ch.pid());
  EXPECT_TRUE(a.has_value()) << a.error().message();
}

TEST_F(CgroupV2Test, CreateWritesLimitsTheKernelHolds) {
  std::string missing;
  if (!have_controllers({"memory", "cpu", "pids"}, &missing)) GTEST_SKIP() << missing;
  Resources r;
  r.memory = MemoryResources{32 << 20, 16 << 20, 48 << 20, std::nullopt, std::nullopt};
  r.cpu = CpuResources{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.pids = PidsResources{10};
  r.unified["memory.high"] = "30000000";
  auto c = mgr_->create(r);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  const std::string d = mgr_->dir();
  EXPECT_EQ(slurp(d + "/memory.max"), "33554432");
  EXPECT_EQ(slurp(d + "/memory.low"), "16777216");
  if (cgroupfs::exists(d + "/memory.swap.max")) {
    EXPECT_EQ(slurp(d + "/memory.swap.max"), "16777216");
  }
  EXPECT_EQ(slurp(d + "/memory.high"), "29999104");  // page-rounded by the kernel
  EXPECT_EQ(slurp(d + "/cpu.max"), "50000 100000");
  EXPECT_EQ(slurp(d + "/cpu.weight"), "20");
  EXPECT_EQ(slurp(d + "/pids.max"), "10");
  auto st = mgr_->stats();
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(st->memory_limit, 32 << 20);
  EXPECT_EQ(st->pids_limit, 10);
}

TEST_F(CgroupV2Test, PidsLimitStopsForks) {
  std::string missing;
  if (!have_controllers({"pids"}, &missing)) GTEST_SKIP() << missing;
  expect_pids_limit_enforced(*mgr_);
}

TEST_F(CgroupV2Test, MemoryLimitOomKills) {
  std::string missing;
  if (!have_controllers({"memory"}, &missing)) GTEST_SKIP() << missing;
  expect_oom_kill(*mgr_);
}

}  // namespace
}  // namespace stack::rt
