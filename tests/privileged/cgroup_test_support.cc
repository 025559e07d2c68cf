#include "tests/privileged/cgroup_test_support.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>

namespace stack::rt::cgtest {

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

namespace {

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

}  // namespace

// Kills whatever is left below `root` in every mounted hierarchy and removes
// it: the safety net behind destroy(), which is itself under test.
void scrub(const std::string& root) {
  auto mounts = read_cgroup_mounts();
  if (!mounts) return;
  std::vector<std::string> dirs;
  for (const auto& m : *mounts)
    if (dir_exists(m.mount_point + root)) dirs.push_back(m.mount_point + root);
  // One kill loop over every hierarchy: the freezer that holds a task may be
  // in a different hierarchy from the directory that lists it.
  (void)cgroupfs::kill_until_empty(
      [&]() -> Result<std::vector<pid_t>> {
        std::vector<pid_t> all;
        for (const auto& d : dirs)
          if (auto p = cgroupfs::procs_recursive(d)) all.insert(all.end(), p->begin(), p->end());
        return all;
      },
      [&] {
        for (const auto& d : dirs) thaw_all(d);
      });
  for (const auto& d : dirs) (void)cgroupfs::remove_tree(d);
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

}  // namespace stack::rt::cgtest
