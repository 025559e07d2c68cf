#include "tests/support/cluster_harness.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/test_daemon.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;

// Lazily unmounts every mount point under `prefix`, deepest first.
void unmount_under(const std::string& prefix) {
  std::vector<std::string> points;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point.rfind(prefix, 0) == 0) points.push_back(point);
  }
  std::sort(points.begin(), points.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
}

}  // namespace

std::string ClusterHarness::skip_reason() {
  if (::geteuid() != 0) return "needs root (network namespaces)";
  if (!fs::exists("/usr/bin/etcd")) return "etcd is not installed (apt-get install etcd-server)";
  if (!fs::exists("/usr/bin/ip") && !fs::exists("/sbin/ip")) return "iproute2 is not installed";
  if (!fs::exists("/usr/bin/nsenter")) return "nsenter is not installed (util-linux)";
  return "";
}

std::string ClusterHarness::sh(const std::string& command) {
  auto r = run({"sh", "-c", command});
  return r.status == 0 ? "" : command + ": " + r.err;
}

ClusterHarness::ClusterHarness(int count) {
  if (!physical_.ok()) {
    error_ = "no private network namespace";
    return;
  }
  const std::string id = unique_id("c");
  bridge_ = "stkt-" + id.substr(id.size() > 8 ? id.size() - 8 : 0);
  error_ = sh("ip link add " + bridge_ + " type bridge && ip addr add 10.77.0.254/24 dev " + bridge_ +
              " && ip link set " + bridge_ + " up");
  for (int n = 0; n < count && error_.empty(); ++n) {
    Node node;
    node.netns = "stk-" + id + "-n" + std::to_string(n);
    node.dir = dir_.path() + "/n" + std::to_string(n);
    node.run = "/run/stack-it-" + id + "-n" + std::to_string(n);
    fs::create_directories(node.dir + "/root");
    const std::string host_end = "stkv" + std::to_string(n) + id.substr(id.size() > 4 ? id.size() - 4 : 0);
    error_ = sh("ip netns add " + node.netns + " && ip link add " + host_end + " type veth peer name eth0 netns " +
                node.netns + " && ip link set " + host_end + " master " + bridge_ + " up && ip -n " + node.netns +
                " addr add " + address(n) + "/24 dev eth0 && ip -n " + node.netns + " link set eth0 up && ip -n " +
                node.netns + " link set lo up");
    nodes_.push_back(node);
  }
}

std::string ClusterHarness::partition(int n, bool cut) {
  return sh("ip -n " + nodes_.at(static_cast<size_t>(n)).netns + " link set eth0 " + (cut ? "down" : "up"));
}

ClusterHarness::~ClusterHarness() {
  for (int n = 0; n < size(); ++n) stop(n, SIGTERM);
  // Containers outlive their stackd (live restore): what a test left goes
  // with its shim (the overlay mounts live in stackd's mount namespace, and
  // go with the last process in it).
  for (int n = 0; n < size(); ++n)
    for (const auto& id : containers(n)) run({binary("stack-runtime"), "--root", nodes_[n].run + "/runtime", "delete", "--force", id});
  for (auto& node : nodes_) {
    for (const auto& prefix : {node.dir + "/", node.run + "/"}) unmount_under(prefix);
    ::umount2((node.run + "/netns").c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(node.run, ec);
    run({"ip", "netns", "del", node.netns});
  }
}

std::string ClusterHarness::address(int n) const { return "10.77.0." + std::to_string(n + 1); }
std::string ClusterHarness::root(int n) const { return nodes_.at(n).dir + "/root"; }
std::string ClusterHarness::log(int n) const { return read_file(nodes_.at(n).dir + "/stackd.log"); }
bool ClusterHarness::running(int n) const { return nodes_.at(n).pid > 0; }

std::string ClusterHarness::start(int n) {
  auto& node = nodes_.at(n);
  if (node.pid > 0) return "";
  // nsenter, not `ip netns exec`: that one gives the node a mount namespace
  // with a fresh /sys of its network namespace, without the cgroup mounts
  // its containers need. The node's mounts (overlays, netns files) are then
  // the host's: ~ClusterHarness unmounts what a killed node left.
  node.pid = spawn_test_daemon({"/usr/bin/nsenter", "--net=/run/netns/" + node.netns, "--", binary("stackd"),
                                "--foreground", "--root", root(n), "--socket", node.dir + "/stackd.sock",
                                "--runtime-root", node.run + "/runtime", "--netns-dir", node.run + "/netns",
                                "--log-level", "debug"},
                               node.dir + "/stackd.log");
  for (int i = 0; i < 600; ++i) {  // 60 s: a manager's etcd member starts first
    if (stack(n, {"version"}).status == 0) return "";
    if (test_daemon_exited(node.pid)) return "stackd on node " + std::to_string(n) + " exited: " + log(n);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "stackd on node " + std::to_string(n) + " does not answer: " + log(n);
}

void ClusterHarness::stop(int n, int sig) {
  auto& node = nodes_.at(n);
  if (node.pid <= 0) return;
  ::kill(node.pid, sig);
  for (int i = 0; i < 300 && !test_daemon_exited(node.pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  kill_test_daemon(node.pid);
}

std::vector<std::string> ClusterHarness::containers(int n) const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(nodes_.at(n).run + "/runtime", ec))
    if (e.is_directory() && e.path().filename().string()[0] != '.') ids.push_back(e.path().filename());  // not .seccomp-cache
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> ClusterHarness::stack_argv(int n) const {
  return {binary("stack"), "--host", "unix://" + nodes_.at(n).dir + "/stackd.sock"};
}

CmdResult ClusterHarness::stack(int n, const std::vector<std::string>& args, int timeout_s) {
  std::vector<std::string> argv = stack_argv(n);
  if (timeout_s > 0) argv.insert(argv.begin(), {"timeout", std::to_string(timeout_s)});
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

}  // namespace stack::test
