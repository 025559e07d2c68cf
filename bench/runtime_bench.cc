// stack-bench-runtime: container start latency of stack-runtime against its
// peers (runc, crun), run side by side on the same machine, plus the resident
// memory of a per-container monitor (stack-shim against conmon).
//
// Each lifecycle is create -> start -> wait for exit -> delete, every verb a
// separate exec of the runtime CLI, the way podman/conmon drive a runtime:
// the bench is a child subreaper, so once `create` exits the container's init
// is re-parented to it; it reads the pid from --pid-file and, after `start`,
// reaps that pid with waitpid. Runtimes and seccomp settings are interleaved
// round-robin per iteration so that machine drift hits every row alike.
//
// See bench/README.md for what each number means.
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_memory.h"
#include "bench/bench_support.h"

#ifndef STACK_BENCH_BINARY_DIR
#define STACK_BENCH_BINARY_DIR ""
#endif

extern char** environ;

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace stack::bench;

constexpr int kContainerExitTimeoutMs = 10000;
constexpr int kMaxErrorsShown = 3;  // per row; the rest are counted only


// ---- the benchmark ----------------------------------------------------------


struct Runtime {
  std::string name;
  std::string path;
  std::string root;     // its own --root
  std::string version;
  std::string missing;  // non-empty: not installed, why
};

struct Sample {
  double create = 0, start = 0, wait = 0, del = 0, total = 0;
};

constexpr const char* kVerbs[] = {"create", "start", "wait", "delete"};

struct Row {
  Runtime* rt = nullptr;
  bool seccomp = true;
  std::string bundle;
  std::vector<Sample> samples;
  int failed = 0;
  int warmup_failed = 0;
  std::vector<std::string> errors;  // the first few, verbatim
  std::string na;                   // non-empty: row disabled (n/a reason)

  std::string label() const { return rt->name + (seccomp ? " (seccomp)" : " (no seccomp)"); }
  std::vector<double> series(int verb) const {  // verb -1: total
    std::vector<double> v;
    for (auto& s : samples) {
      const double vals[] = {s.create, s.start, s.wait, s.del};
      v.push_back(verb < 0 ? s.total : vals[verb]);
    }
    return v;
  }
  double median(int verb = -1) const { return percentile(series(verb), 0.5); }
};

// One create -> start -> wait -> delete. On failure `err` says what and the
// container is cleaned up (delete --force, init killed and reaped).
std::optional<Sample> lifecycle(const Capture& cap, const Runtime& rt, const std::string& bundle,
                                const std::string& id, const std::string& pid_file, std::string& err) {
  ::unlink(pid_file.c_str());
  pid_t pid = -1;
  bool reaped = false;
  auto cleanup = [&] {
    (void)run_cmd(cap, {rt.path, "--root", rt.root, "delete", "--force", id});
    if (pid > 0 && !reaped) {
      ::kill(pid, SIGKILL);
      (void)wait_child(pid, 5000);
    }
    reap_strays();
  };
  auto fail = [&](const std::string& what) -> std::optional<Sample> {
    err = what;
    cleanup();
    return std::nullopt;
  };

  Sample s;
  std::vector<std::string> create = {rt.path, "--root", rt.root, "create", "--bundle", bundle, "--pid-file", pid_file, id};
  uint64_t t0 = now_ns();
  CmdResult c = run_cmd(cap, create);
  uint64_t t1 = now_ns();
  if (c.status != 0) return fail(c.describe(create));
  pid = read_pid(pid_file);
  if (pid <= 0) return fail("create succeeded but wrote no pid to " + pid_file);

  std::vector<std::string> start = {rt.path, "--root", rt.root, "start", id};
  uint64_t t2a = now_ns();
  CmdResult st = run_cmd(cap, start);
  uint64_t t2 = now_ns();
  if (st.status != 0) return fail(st.describe(start));

  // The init was re-parented to us when create exited (we are its subreaper).
  auto w = wait_child(pid, kContainerExitTimeoutMs);
  uint64_t t3 = now_ns();
  reaped = true;
  if (!w) return fail("container init " + std::to_string(pid) + " did not exit within 10 s (killed)");
  if (exit_code(*w) != 0) {
    std::string out = cap.text();
    return fail("container exited " + std::to_string(exit_code(*w)) + (out.empty() ? "" : ":\n    " + trim(out)));
  }

  std::vector<std::string> del = {rt.path, "--root", rt.root, "delete", id};
  CmdResult d = run_cmd(cap, del);
  uint64_t t4 = now_ns();
  if (d.status != 0) return fail(d.describe(del));
  reap_strays();

  s.create = ms_between(t0, t1);
  s.start = ms_between(t2a, t2);
  s.wait = ms_between(t2, t3);
  s.del = ms_between(t3, t4);
  s.total = ms_between(t0, t4);
  return s;
}

std::string cgroup_layout() {
  struct statfs sf{};
  if (::statfs("/sys/fs/cgroup", &sf) != 0) return "unknown";
  if (sf.f_type == 0x63677270 /* CGROUP2_SUPER_MAGIC */) return "unified (v2)";
  std::error_code ec;
  if (fs::exists("/sys/fs/cgroup/unified/cgroup.controllers", ec)) return "hybrid (v1 controllers + v2 unified)";
  return "legacy (v1)";
}

// What moving a process between cgroups costs on this machine, after
// `settle_ms` of idle: the bench writes its own pid into the cgroup.procs of
// the cgroup it is already in (a no-op move that takes the same locks as a
// container's join). Without favordynmods the kernel waits for an RCU grace
// period here (~10 ms) unless another move happened within the last one;
// every runtime's create pays this once. NAN when no cgroup.procs is writable.
double probe_migration_ms(int settle_ms) {
  std::string target;
  std::ifstream f("/proc/self/cgroup");
  for (std::string line; std::getline(f, line);) {
    auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::string ctrl = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
    std::string dir;
    if (ctrl == "pids" || ctrl == "memory") dir = "/sys/fs/cgroup/" + ctrl;  // a v1 hierarchy
    else if (ctrl.empty() && target.empty() && cgroup_layout() == "unified (v2)") dir = "/sys/fs/cgroup";
    if (dir.empty()) continue;
    target = dir + path + "/cgroup.procs";
    if (!ctrl.empty()) break;
  }
  if (target.empty()) return NAN;
  std::vector<double> v;
  const std::string self = std::to_string(::getpid());
  for (int i = 0; i < 3; i++) {
    ::usleep(static_cast<useconds_t>(std::max(settle_ms, 50)) * 1000);
    int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return NAN;
    uint64_t t0 = now_ns();
    ssize_t w = ::write(fd, self.data(), self.size());
    uint64_t t1 = now_ns();
    ::close(fd);
    if (w != static_cast<ssize_t>(self.size())) return NAN;
    v.push_back(ms_between(t0, t1));
  }
  return percentile(v, 0.5);
}

bool favordynmods_mounted() {
  std::string mi = read_text("/proc/self/mountinfo");
  return mi.find("favordynmods") != std::string::npos;
}

// The rootfs: /bin/busybox (static) and applet symlinks; mount points the
// default spec mounts on.
void make_rootfs(const std::string& root, const std::string& busybox) {
  for (const char* d : {"bin", "proc", "sys", "dev", "tmp", "etc", "root"}) fs::create_directories(root + "/" + d);
  fs::copy_file(busybox, root + "/bin/busybox", fs::copy_options::overwrite_existing);
  ::chmod((root + "/bin/busybox").c_str(), 0755);
  for (const char* applet : {"true", "sleep", "sh"}) fs::create_symlink("busybox", root + "/bin/" + applet);
}

void write_json(const std::string& path, const json& j) {
  std::ofstream f(path);
  f << j.dump(2) << "\n";
  if (!f) throw std::runtime_error("write " + path + " failed");
}

// A bundle: <dir>/config.json (from `stack-runtime spec`, edited) + rootfs.
void make_bundle(const Capture& cap, const Options& o, const std::string& busybox, const std::string& dir,
                 const std::vector<std::string>& args, bool seccomp) {
  fs::create_directories(dir);
  make_rootfs(dir + "/rootfs", busybox);
  std::vector<std::string> spec = {o.stack_runtime, "spec", "--bundle", dir};
  CmdResult r = run_cmd(cap, spec);
  if (r.status != 0) throw std::runtime_error(r.describe(spec));
  json config = json::parse(read_text(dir + "/config.json"));
  config["process"]["args"] = args;
  config["process"]["terminal"] = false;
  config["root"]["path"] = "rootfs";
  if (!seccomp) config["linux"].erase("seccomp");
  else if (!config["linux"].contains("seccomp"))
    throw std::runtime_error("`stack-runtime spec` wrote no linux.seccomp: nothing to compare");
  write_json(dir + "/config.json", config);
}

std::string version_of(const Capture& cap, const std::string& path) {
  CmdResult r = run_cmd(cap, {path, "--version"}, 5000);
  return r.status == 0 ? trim(first_line(r.output)) : "?";
}

// ---- output -----------------------------------------------------------------

std::string fmt(double v, int prec = 2) {
  if (std::isnan(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

const Row* find_row(const std::vector<Row>& rows, const std::string& name, bool seccomp) {
  for (auto& r : rows)
    if (r.rt->name == name && r.seccomp == seccomp && r.na.empty() && !r.samples.empty()) return &r;
  return nullptr;
}

void usage() {
  std::printf(
      "usage: stack-bench-runtime [options]\n"
      "  --runs N            measured lifecycles per runtime and seccomp setting (default 100)\n"
      "  --warmup N          warm-up rounds, not measured (default 5)\n"
      "  --settle-ms N       idle before every lifecycle (default 50): each create starts with no\n"
      "                      cgroup migration in the last RCU grace period, as a lone start on an\n"
      "                      idle node does; 0 = back to back (cost then depends on the order)\n"
      "  --only A,B          run only these runtimes (stack-runtime, runc, crun)\n"
      "  --json FILE         also write the results as JSON\n"
      "  --stack-runtime P   our runtime (default: found next to this binary in the build tree)\n"
      "  --runc P            (default /usr/sbin/runc or runc in PATH)\n"
      "  --crun P            (default crun in PATH, if installed)\n"
      "  --no-crun           leave crun out\n"
      "  --shim P            stack-shim for the memory measurement (default: the build tree's)\n"
      "  --conmon P          (default conmon in PATH, if installed)\n"
      "  --no-memory         skip the shim/conmon memory measurement\n"
      "  --tmpdir DIR        where bundles and runtime roots go (default $TMPDIR or /tmp)\n"
      "  --keep              keep the temporary directory\n");
}

int main_(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + ": missing value");
      return argv[++i];
    };
    if (a == "--runs") o.runs = std::stoi(value());
    else if (a == "--warmup") o.warmup = std::stoi(value());
    else if (a == "--settle-ms") o.settle_ms = std::stoi(value());
    else if (a == "--only") {
      std::stringstream ss(value());
      for (std::string n; std::getline(ss, n, ',');)
        if (!n.empty()) o.only.push_back(n);
    }
    else if (a == "--json") o.json_file = value();
    else if (a == "--stack-runtime") o.stack_runtime = value();
    else if (a == "--runc") o.runc = value();
    else if (a == "--crun") o.crun = value();
    else if (a == "--no-crun") o.no_crun = true;
    else if (a == "--shim") o.shim = value();
    else if (a == "--conmon") o.conmon = value();
    else if (a == "--no-memory") o.no_memory = true;
    else if (a == "--tmpdir") o.tmpdir = value();
    else if (a == "--keep") o.keep = true;
    else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "stack-bench-runtime: unknown argument %s\n", a.c_str());
      usage();
      return 2;
    }
  }
  if (o.runs < 1 || o.warmup < 0 || o.settle_ms < 0)
    throw std::runtime_error("--runs must be >= 1, --warmup and --settle-ms >= 0");
  for (auto& n : o.only)
    if (n != "stack-runtime" && n != "runc" && n != "crun") throw std::runtime_error("--only: unknown runtime " + n);
  auto wanted = [&](const std::string& n) { return o.only.empty() || std::find(o.only.begin(), o.only.end(), n) != o.only.end(); };
  if (::geteuid() != 0) throw std::runtime_error("must run as root (containers need namespaces and cgroups)");

  if (o.stack_runtime.empty()) o.stack_runtime = find_built("stack-runtime");
  if (!executable(o.stack_runtime)) throw std::runtime_error("stack-runtime not found; build it or pass --stack-runtime");
  if (o.runc.empty()) o.runc = executable("/usr/sbin/runc") ? "/usr/sbin/runc" : in_path("runc");
  if (o.crun.empty() && !o.no_crun) o.crun = in_path("crun");
  if (o.shim.empty()) o.shim = find_built("stack-shim");
  if (o.conmon.empty()) o.conmon = in_path("conmon");

  std::string busybox;
  for (const char* p : {"/bin/busybox", "/usr/bin/busybox"})
    if (executable(p) && is_static_elf(p)) {
      busybox = p;
      break;
    }
  if (busybox.empty()) throw std::runtime_error("no static /bin/busybox: apt-get install -y busybox-static");

  // Orphans (the container's init once `create` exits) come to us.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    throw std::runtime_error(std::string("PR_SET_CHILD_SUBREAPER: ") + std::strerror(errno));

  std::string base = o.tmpdir.empty() ? fs::temp_directory_path().string() : o.tmpdir;
  std::string tmpl = base + "/stack-bench-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  const std::string tmp = tmpl;
  struct Cleanup {
    std::string dir;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (keep) std::fprintf(stderr, "kept %s\n", dir.c_str());
      else fs::remove_all(dir, ec);
    }
  } cleanup_tmp{tmp, o.keep};
  Capture cap(tmp + "/output");

  make_bundle(cap, o, busybox, tmp + "/bundle-seccomp", {"/bin/true"}, true);
  make_bundle(cap, o, busybox, tmp + "/bundle-noseccomp", {"/bin/true"}, false);

  std::vector<Runtime> runtimes;
  if (wanted("stack-runtime")) runtimes.push_back({"stack-runtime", o.stack_runtime, "", "", ""});
  if (wanted("runc")) runtimes.push_back({"runc", o.runc, "", "", o.runc.empty() ? "not installed" : ""});
  if (!o.no_crun && wanted("crun")) runtimes.push_back({"crun", o.crun, "", "", o.crun.empty() ? "not installed" : ""});
  for (auto& rt : runtimes) {
    rt.root = tmp + "/roots/" + rt.name;
    fs::create_directories(rt.root);
    if (rt.missing.empty()) rt.version = version_of(cap, rt.path);
  }
  std::vector<Row> rows;
  for (auto& rt : runtimes)
    for (bool sc : {true, false}) {
      Row r;
      r.rt = &rt;
      r.seccomp = sc;
      r.bundle = tmp + (sc ? "/bundle-seccomp" : "/bundle-noseccomp");
      if (!rt.missing.empty()) r.na = "n/a (" + rt.missing + ")";
      rows.push_back(std::move(r));
    }

  struct utsname un{};
  ::uname(&un);
  const double migration_ms = probe_migration_ms(o.settle_ms);
  char migration[160];
  std::snprintf(migration, sizeof migration, "idle cgroup.procs write %s ms%s", std::isnan(migration_ms) ? "n/a" : fmt(migration_ms, 3).c_str(),
                favordynmods_mounted() ? " (favordynmods mounted)" : "");
  std::fprintf(stderr, "stack-bench-runtime: kernel %s, %ld CPUs, cgroups %s, %s, bundle /bin/true on busybox\n",
               un.release, ::sysconf(_SC_NPROCESSORS_ONLN), cgroup_layout().c_str(), migration);
  for (auto& rt : runtimes)
    std::fprintf(stderr, "  %-14s %s%s\n", rt.name.c_str(), rt.missing.empty() ? rt.path.c_str() : "",
                 rt.missing.empty() ? ("  (" + rt.version + ")").c_str() : rt.missing.c_str());

  const std::string pid_file = tmp + "/container.pid";
  const std::string tag = std::to_string(::getpid());
  auto one = [&](Row& row, const std::string& id, bool measured) {
    if (o.settle_ms > 0) ::usleep(static_cast<useconds_t>(o.settle_ms) * 1000);
    std::string err;
    auto s = lifecycle(cap, *row.rt, row.bundle, id, pid_file, err);
    if (s) {
      if (measured) row.samples.push_back(*s);
      return true;
    }
    (measured ? row.failed : row.warmup_failed)++;
    if (static_cast<int>(row.errors.size()) < kMaxErrorsShown) {
      row.errors.push_back(err);
      std::fprintf(stderr, "%s %s failed: %s\n", measured ? "run" : "warm-up", row.label().c_str(), err.c_str());
    }
    return false;
  };

  // Warm-up: page cache, seccomp caches, the runtimes' first-use costs. A row
  // whose every warm-up lifecycle fails is disabled (crun on hybrid cgroups).
  // crun refuses hybrid cgroup layouts outright: no point in retrying it.
  int warm = std::max(o.warmup, 1);
  for (int i = 0; i < warm; i++)
    for (auto& row : rows) {
      if (!row.na.empty()) continue;
      bool ok = one(row, "sbw" + tag + "-" + row.rt->name + (row.seccomp ? "-s" : "-n") + std::to_string(i), false);
      std::string e = row.errors.empty() ? "" : lower(row.errors.back());
      if (!ok && row.rt->name == "crun" && e.find("cgroup") != std::string::npos && e.find("hybrid") != std::string::npos)
        row.na = "n/a (refuses hybrid cgroups)";
    }
  for (auto& row : rows) {
    if (!row.na.empty() || row.warmup_failed < warm) continue;
    std::string e = row.errors.empty() ? "" : lower(row.errors.front());
    if (row.rt->name == "crun" && e.find("cgroup") != std::string::npos) row.na = "n/a (refuses hybrid cgroups)";
    else row.na = "n/a (every warm-up run failed: " + first_line(row.errors.empty() ? "?" : row.errors.front()) + ")";
  }
  // Warm-up errors were printed; the list keeps only those of measured runs.
  for (auto& row : rows)
    if (row.na.empty()) row.errors.clear();

  std::vector<Row*> active;
  for (auto& row : rows)
    if (row.na.empty()) active.push_back(&row);
  uint64_t bench_start = now_ns();
  for (int i = 0; i < o.runs; i++) {
    // Round-robin, rotating who goes first so no row always follows the same one.
    for (size_t k = 0; k < active.size(); k++) {
      Row& row = *active[(static_cast<size_t>(i) + k) % active.size()];
      one(row, "sb" + tag + "-" + row.rt->name + (row.seccomp ? "-s" : "-n") + std::to_string(i), true);
    }
    if ((i + 1) % 10 == 0 || i + 1 == o.runs)
      std::fprintf(stderr, "\r  %d/%d rounds, %.0f s", i + 1, o.runs, ms_between(bench_start, now_ns()) / 1000);
  }
  std::fprintf(stderr, "\n");

  std::vector<MemResult> mem;
  if (!o.no_memory) {
    make_bundle(cap, o, busybox, tmp + "/bundle-sleep", {"/bin/sleep", "60"}, true);
    mem.push_back(measure_shim(cap, o, tmp, tmp + "/bundle-sleep"));
    mem.push_back(measure_conmon(cap, o, tmp, tmp + "/bundle-sleep"));
  }

  // ---- report ----
  std::printf("\nRuntime start: create -> start -> wait -> delete, one exec per verb, %d runs per row "
              "(%d warm-up rounds), round-robin, %d ms idle before each\n",
              o.runs, warm, o.settle_ms);
  std::printf("kernel %s, %ld CPUs, cgroups %s, %s\n\n", un.release, ::sysconf(_SC_NPROCESSORS_ONLN),
              cgroup_layout().c_str(), migration);
  std::printf("%-14s %-8s %8s | %-36s | %s\n", "", "", "", "lifecycle ms (vs runc: median ratio)",
              "median ms per verb");
  std::printf("%-14s %-8s %8s | %8s %8s %8s %8s | %8s %8s %8s %8s\n", "runtime", "seccomp", "ok/runs", "median",
              "p90", "p99", "vs runc", "create", "start", "wait", "delete");
  std::printf("%s\n", std::string(120, '-').c_str());
  json jrows = json::array();
  for (auto& row : rows) {
    const char* sc = row.seccomp ? "default" : "none";
    json jr = {{"runtime", row.rt->name}, {"path", row.rt->path}, {"version", row.rt->version},
               {"seccomp", row.seccomp}, {"ok", row.samples.size()}, {"failed", row.failed},
               {"warmup_failed", row.warmup_failed}, {"errors", row.errors}};
    if (!row.na.empty()) {
      std::printf("%-14s %-8s %s\n", row.rt->name.c_str(), sc, row.na.c_str());
      jr["na"] = row.na;
      jrows.push_back(jr);
      continue;
    }
    auto total = row.series(-1);
    double med = percentile(total, 0.5), p90 = percentile(total, 0.9), p99 = percentile(total, 0.99);
    const Row* runc = find_row(rows, "runc", row.seccomp);
    double ratio = runc ? med / runc->median() : NAN;
    char ok[32];
    std::snprintf(ok, sizeof ok, "%zu/%d", row.samples.size(), o.runs);
    std::printf("%-14s %-8s %8s | %8s %8s %8s %8s | %8s %8s %8s %8s\n", row.rt->name.c_str(), sc, ok,
                fmt(med).c_str(), fmt(p90).c_str(), fmt(p99).c_str(), std::isnan(ratio) ? "-" : (fmt(ratio) + "x").c_str(), fmt(row.median(0)).c_str(),
                fmt(row.median(1)).c_str(), fmt(row.median(2)).c_str(), fmt(row.median(3)).c_str());
    jr["total_ms"] = {{"median", med}, {"p90", p90}, {"p99", p99}, {"mean", total.empty() ? NAN : [&] {
                        double s = 0;
                        for (double v : total) s += v;
                        return s / static_cast<double>(total.size());
                      }()},
                      {"min", percentile(total, 0)}, {"max", percentile(total, 1)}};
    if (runc) jr["median_ratio_vs_runc"] = ratio;
    json verbs;
    for (int v = 0; v < 4; v++) {
      auto sv = row.series(v);
      verbs[kVerbs[v]] = {{"median", percentile(sv, 0.5)}, {"p90", percentile(sv, 0.9)}, {"p99", percentile(sv, 0.99)}};
    }
    jr["verbs_ms"] = verbs;
    json raw = json::array();
    for (auto& s : row.samples) raw.push_back({s.create, s.start, s.wait, s.del});
    jr["samples_ms"] = {{"columns", {"create", "start", "wait", "delete"}}, {"rows", raw}};
    jrows.push_back(jr);
  }
  int failed_total = 0;
  for (auto& row : rows) failed_total += row.failed;
  if (failed_total > 0) {
    std::printf("\nFAILED runs (not in the numbers above):\n");
    for (auto& row : rows)
      if (row.failed > 0) std::printf("  %-26s %d of %d failed; first: %s\n", row.label().c_str(), row.failed, o.runs,
                                      first_line(row.errors.empty() ? "?" : row.errors.front()).c_str());
  }

  std::printf("\nSeccomp cost (median with the default profile minus median without):\n");
  std::printf("%-14s %10s %10s\n", "runtime", "lifecycle", "create");
  json jdelta = json::object();
  for (auto& rt : runtimes) {
    const Row* with = find_row(rows, rt.name, true);
    const Row* without = find_row(rows, rt.name, false);
    if (!with || !without) {
      std::printf("%-14s %10s\n", rt.name.c_str(), "n/a");
      continue;
    }
    double dl = with->median() - without->median(), dc = with->median(0) - without->median(0);
    std::printf("%-14s %+9.2f %+9.2f  ms\n", rt.name.c_str(), dl, dc);
    jdelta[rt.name] = {{"lifecycle_ms", dl}, {"create_ms", dc}};
  }

  json jmem = json::array();
  if (!mem.empty()) {
    std::printf("\nMonitor memory, one idle container (sleep 60), /proc/<pid>/smaps_rollup:\n");
    std::printf("%-12s %10s %10s %12s\n", "monitor", "RSS KiB", "PSS KiB", "private KiB");
    for (auto& m : mem) {
      json jm = {{"monitor", m.monitor}};
      if (m.mem) {
        std::printf("%-12s %10ld %10ld %12ld%s\n", m.monitor.c_str(), m.mem->rss_kb, m.mem->pss_kb, m.mem->private_kb,
                    m.note.empty() ? "" : ("  " + m.note).c_str());
        jm.update(m.mem->to_json());
      } else {
        std::printf("%-12s %s\n", m.monitor.c_str(), m.note.c_str());
      }
      if (!m.note.empty()) jm["note"] = m.note;
      jmem.push_back(jm);
    }
  }

  if (!o.json_file.empty()) {
    json out = {{"benchmark", "stack-bench-runtime"},
                {"lifecycle", "create -> start -> wait -> delete, one exec per verb"},
                {"runs", o.runs},
                {"warmup_rounds", warm},
                {"settle_ms", o.settle_ms},
                {"machine",
                 {{"kernel", un.release},
                  {"cpus", ::sysconf(_SC_NPROCESSORS_ONLN)},
                  {"cgroups", cgroup_layout()},
                  {"idle_cgroup_migration_ms", migration_ms},
                  {"favordynmods_mounted", favordynmods_mounted()}}},
                {"rows", jrows},
                {"seccomp_delta", jdelta},
                {"monitor_memory", jmem}};
    write_json(o.json_file, out);
    std::printf("\nJSON written to %s\n", o.json_file.c_str());
  }
  return failed_total > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return main_(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stack-bench-runtime: %s\n", e.what());
    return 2;
  }
}
