#include "bench/bench_memory.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace stack::bench {

namespace fs = std::filesystem;

namespace {
pid_t parent_of(pid_t pid) {
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto rp = stat.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream ss(stat.substr(rp + 2));
  char state;
  pid_t ppid = -1;
  ss >> state >> ppid;
  return ppid;
}

bool wait_for_file(const std::string& path, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (::access(path.c_str(), F_OK) == 0) return true;
    ::usleep(10000);
  }
  return ::access(path.c_str(), F_OK) == 0;
}



}  // namespace

std::optional<Mem> smaps_rollup(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/smaps_rollup");
  if (!f) return std::nullopt;
  Mem m;
  long priv = 0;
  bool any_priv = false;
  for (std::string line; std::getline(f, line);) {
    std::istringstream ls(line);
    std::string key;
    long kb = 0;
    if (!(ls >> key >> kb)) continue;
    if (key == "Rss:") m.rss_kb = kb;
    else if (key == "Pss:") m.pss_kb = kb;
    else if (key == "Private_Clean:" || key == "Private_Dirty:") {
      priv += kb;
      any_priv = true;
    }
  }
  if (any_priv) m.private_kb = priv;
  if (m.rss_kb < 0) return std::nullopt;
  return m;
}

// stack-shim --detach with `sleep 60`; the shim (re-parented to us) is measured
// once the container runs, then the container is killed and deleted.
MemResult measure_shim(const Capture& cap, const Options& o, const std::string& tmp, const std::string& bundle) {
  MemResult r{"stack-shim", std::nullopt, ""};
  if (o.shim.empty()) {
    r.note = "skipped: stack-shim not built (looked next to the bench and in <build>/runtime)";
    return r;
  }
  CmdResult help = run_cmd(cap, {o.shim, "--help"}, 5000);
  if (help.status != 0 || help.output.find("--detach") == std::string::npos) {
    r.note = "skipped: stack-shim --help does not offer --detach (not ready?)";
    return r;
  }
  std::string root = tmp + "/roots/shim";
  fs::create_directories(root);
  std::string id = "sbmem-shim-" + std::to_string(::getpid());
  std::vector<std::string> argv = {o.shim, "--root", root, "--id", id, "--bundle", bundle, "--detach"};
  CmdResult s = run_cmd(cap, argv);
  pid_t ctr = -1;
  if (auto p = s.output.find("started "); s.status == 0 && p != std::string::npos)
    ctr = static_cast<pid_t>(std::atol(s.output.c_str() + p + 8));
  if (s.status != 0 || ctr <= 0) {
    r.note = "failed: " + s.describe(argv);
  } else {
    pid_t shim = read_pid(root + "/" + id + "/shim.pid");
    if (shim <= 0) shim = parent_of(ctr);  // the shim is the parent of the container's init
    ::usleep(300000);                      // let it settle into its poll loop
    r.mem = smaps_rollup(shim);
    if (!r.mem) r.note = "failed: cannot read /proc/" + std::to_string(shim) + "/smaps_rollup";
    (void)run_cmd(cap, {o.stack_runtime, "--root", root, "kill", id, "KILL"});
    // Detached, the shim was re-parented to us: reap it once the container is gone.
    if (shim > 0 && parent_of(shim) == ::getpid()) (void)wait_child(shim, 10000);
  }
  CmdResult d = run_cmd(cap, {o.stack_runtime, "--root", root, "delete", "--force", id});
  if (d.status != 0) r.note += (r.note.empty() ? "" : "; ") + std::string("cleanup: ") + trim(d.output);
  reap_strays();
  return r;
}

// conmon as podman starts it (daemonising, cgroupfs, k8s-file log) against
// runc; podman's `runc start` is ours to issue.
MemResult measure_conmon(const Capture& cap, const Options& o, const std::string& tmp, const std::string& bundle) {
  MemResult r{"conmon", std::nullopt, ""};
  if (o.conmon.empty()) {
    r.note = "skipped: conmon not installed (apt-get install -y conmon)";
    return r;
  }
  if (o.runc.empty()) {
    r.note = "skipped: conmon needs runc, which is not installed";
    return r;
  }
  std::string dir = tmp + "/conmon", root = tmp + "/roots/conmon-runc";
  for (auto& d : {dir + "/exits", dir + "/sock", root}) fs::create_directories(d);
  std::string cid = "sbmem-conmon-" + std::to_string(::getpid());
  std::string ctr_pid = dir + "/ctr.pid", conmon_pid = dir + "/conmon.pid";
  std::vector<std::string> argv = {o.conmon, "--api-version", "1", "-c", cid, "-u", cid, "-n", cid,
                                   "-r", o.runc, "-b", bundle, "-p", ctr_pid, "-P", conmon_pid,
                                   "--exit-dir", dir + "/exits", "-l", "k8s-file:" + dir + "/ctr.log",
                                   "--log-level", "error", "--socket-dir-path", dir + "/sock",
                                   "--runtime-arg", "--root", "--runtime-arg", root};
  CmdResult c = run_cmd(cap, argv);
  if (c.status != 0 || !wait_for_file(ctr_pid, 10000)) {
    r.note = "failed: " + c.describe(argv) + (c.status == 0 ? " (no container pid file)" : "");
  } else {
    std::vector<std::string> start = {o.runc, "--root", root, "start", cid};
    CmdResult s = run_cmd(cap, start);
    pid_t mon = read_pid(conmon_pid);
    if (s.status != 0) {
      r.note = "failed: " + s.describe(start);
    } else if (mon <= 0) {
      r.note = "failed: conmon wrote no pid to " + conmon_pid;
    } else {
      ::usleep(300000);
      r.mem = smaps_rollup(mon);
      if (!r.mem) r.note = "failed: cannot read /proc/" + std::to_string(mon) + "/smaps_rollup";
    }
    (void)run_cmd(cap, {o.runc, "--root", root, "kill", cid, "KILL"});
    if (mon > 0 && parent_of(mon) == ::getpid()) (void)wait_child(mon, 10000);
  }
  (void)run_cmd(cap, {o.runc, "--root", root, "delete", "--force", cid});
  reap_strays();
  return r;
}

}  // namespace stack::bench
