// stack-bench-net: the netplane's data path and control path, measured in
// a private netns (the bench's "host") with NetworkManager-made networks (bench/net_bench.sh runs
// it and puts podman's figures next to it). Prints "key value" lines:
//   rr_*      1-byte request/response transactions per second (stack-bench-rr)
//   stream_*  bulk TCP Gbit/s (stack-bench-rr), iperf3_* Gbit/s (iperf3 -J)
//   conns_*   sequential connections through the published port
//   connect_ms, endpoint_cycle_ms (connect + disconnect), teardown20_* (20
//   endpoints disconnected one by one vs in one batch)
// Paths: c2c = container to container on the bridge, host = host to the
// container's address, pub = host to 127.0.0.1:<published port>.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "netplane/netns.h"
#include "netplane/network_manager.h"

using namespace stack::net;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// fork + (setns into ns_path) + exec; stdout captured when `out` is set.
pid_t spawn(const std::string& ns_path, const std::vector<std::string>& argv, int out_fd = -1) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!ns_path.empty()) {
      int fd = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(126);
    }
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(out_fd >= 0 ? out_fd : null, 1);
    dup2(null, 2);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execvp(a[0], a.data());
    _exit(127);
  }
  return pid;
}

std::string capture(const std::string& ns_path, const std::vector<std::string>& argv) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return "";
  pid_t pid = spawn(ns_path, argv, p[1]);
  close(p[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;) out.append(buf, n);
  close(p[0]);
  waitpid(pid, nullptr, 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string iperf(const std::string& ns, const std::string& ip, int port, int secs) {
  // Bounded: an iperf3 client can hang when its server is still busy.
  std::string j = capture(ns, {"timeout", std::to_string(secs + 15), "iperf3", "-c", ip, "-p", std::to_string(port),
                               "-t", std::to_string(secs), "-J"});
  auto doc = nlohmann::json::parse(j, nullptr, false);
  auto bps = doc.is_discarded() ? nullptr : doc.value("/end/sum_received/bits_per_second"_json_pointer, nlohmann::json());
  if (!bps.is_number()) return "n/a";
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f", bps.get<double>() / 1e9);
  return buf;
}

void wait_port(const std::string& rr, const std::string& ns, const std::string& ip, int port) {
  for (int i = 0; i < 100; ++i) {
    if (capture(ns, {rr, "conns", ip, std::to_string(port), "1"}).rfind("1 0", 0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
}

int die(const std::string& what, const stack::Error& e) {
  fprintf(stderr, "stack-bench-net: %s: %s\n", what.c_str(), e.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string rr;
  int secs = 3;
  long nconns = 100000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--rr") rr = argv[i + 1];
    if (k == "--seconds") secs = std::stoi(argv[i + 1]);
    if (k == "--conns") nconns = std::stol(argv[i + 1]);
  }
  if (rr.empty()) {
    fprintf(stderr, "usage: stack-bench-net --rr PATH/stack-bench-rr [--seconds S] [--conns N]\n");
    return 2;
  }
  // A private netns as the bench's host: a stackd on this machine sweeps
  // every stack-tagged link and rule of the host netns it does not know.
  if (unshare(CLONE_NEWNET) != 0) {
    perror("stack-bench-net: unshare(CLONE_NEWNET)");
    return 1;
  }
  if (capture("", {"ip", "link", "set", "lo", "up"}) != "") return 1;
  std::string base = "/run/stack-bench-net";
  std::filesystem::create_directories(base);
  auto mgr = NetworkManager::open(base + "/state");
  if (!mgr) return die("open", mgr.error());
  NetworkManager& m = **mgr;
  const std::string net = "bench-net";
  const int kEps = 20;
  std::vector<std::string> ns;
  for (int i = 0; i < kEps; ++i) ns.push_back(base + "/netns/c" + std::to_string(i));
  // Also run first: what an interrupted run left (its own objects only; no
  // sweep, which would take every stack network on the host).
  auto cleanup = [&] {
    std::vector<std::pair<std::string, std::string>> all;
    for (int i = 0; i < kEps; ++i) all.push_back({"c" + std::to_string(i), net});
    (void)m.disconnect(all);
    for (uint16_t port : {18300, 18301}) (void)m.unpublish({net, "", port, 0, "tcp", {}});
    for (uint16_t port : {18302, 18303}) (void)m.unpublish({net, "::1", port, 0, "tcp", {}});
    (void)m.remove_network(net);
    for (auto& n : ns) (void)delete_netns(n);
  };
  cleanup();
  if (auto r = m.create_network({net, "10.239.0.0/24", "", false, 1500}); !r) return die("network", r.error());

  // Endpoint setup/teardown cost: 20 endpoints, one-by-one vs one batch.
  for (auto& n : ns)
    if (auto r = create_netns(n); !r) return die("netns", r.error());
  auto connect_all = [&]() -> double {
    auto t = Clock::now();
    for (int i = 0; i < kEps; ++i)
      if (auto r = m.connect({"c" + std::to_string(i), net, ns[i]}); !r) die("connect", r.error());
    return ms_since(t);
  };
  double connect_ms = connect_all();
  auto t = Clock::now();
  for (int i = 0; i < kEps; ++i) (void)m.disconnect({{"c" + std::to_string(i), net}});
  double one_by_one_ms = ms_since(t);
  connect_all();
  std::vector<std::pair<std::string, std::string>> all;
  for (int i = 0; i < kEps; ++i) all.push_back({"c" + std::to_string(i), net});
  t = Clock::now();
  (void)m.disconnect(all);
  double batch_ms = ms_since(t);
  printf("connect_ms %.2f\nendpoint_cycle_ms %.2f\nteardown20_one_by_one_ms %.1f\nteardown20_batch_ms %.1f\n"
         "endpoint_cycle_batched_ms %.2f\n",
         connect_ms / kEps, (connect_ms + one_by_one_ms) / kEps, one_by_one_ms, batch_ms,
         (connect_ms + batch_ms) / kEps);

  // Data path: c0 serves, c1 is the client container.
  auto e0 = m.connect({"c0", net, ns[0]});
  auto e1 = m.connect({"c1", net, ns[1]});
  if (!e0 || !e1) return die("connect", (!e0 ? e0 : e1).error());
  std::vector<pid_t> servers = {spawn(ns[0], {rr, "server", "3000"}),
                                spawn(ns[0], {"iperf3", "-s", "-p", "5201"})};
  PortMapping prr{net, "", 18300, 0, "tcp", {{e0->address, 3000}}};
  PortMapping pip{net, "", 18301, 0, "tcp", {{e0->address, 5201}}};
  if (auto r = m.publish(prr); !r) return die("publish", r.error());
  if (auto r = m.publish(pip); !r) return die("publish", r.error());
  // "[::1]:18302:3000": the IPv6 forwarder (port_proxy.h), not DNAT.
  PortMapping prr6{net, "::1", 18302, 0, "tcp", {{e0->address, 3000}}};
  PortMapping pip6{net, "::1", 18303, 0, "tcp", {{e0->address, 5201}}};
  if (auto r = m.publish(prr6); !r) return die("publish", r.error());
  if (auto r = m.publish(pip6); !r) return die("publish", r.error());
  wait_port(rr, ns[1], e0->address, 3000);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // iperf3 -s start
  std::string s = std::to_string(secs);
  struct Path {
    const char* name;
    std::string ns, ip;
    int rr_port, ip_port;
  } paths[] = {{"c2c", ns[1], e0->address, 3000, 5201},
               {"host", "", e0->address, 3000, 5201},
               {"pub", "", "127.0.0.1", 18300, 18301},
               {"pub6", "", "::1", 18302, 18303}};
  for (auto& p : paths) {
    printf("rr_%s %s\n", p.name, capture(p.ns, {rr, "rr", p.ip, std::to_string(p.rr_port), s}).c_str());
    printf("stream_%s %s\n", p.name, capture(p.ns, {rr, "stream", p.ip, std::to_string(p.rr_port), s}).c_str());
    printf("iperf3_%s %s\n", p.name, iperf(p.ns, p.ip, p.ip_port, secs).c_str());
    fflush(stdout);
  }
  std::string c = capture("", {rr, "conns", "127.0.0.1", "18300", std::to_string(nconns)});
  printf("conns_pub %s\n", c.c_str());  // "<ok> <failed> <conns/s>"

  for (pid_t p : servers) kill(p, SIGKILL), waitpid(p, nullptr, 0);
  cleanup();
  if (m.find_network(net)) fprintf(stderr, "stack-bench-net: network %s left behind\n", net.c_str());
  umount2((base + "/netns").c_str(), MNT_DETACH);
  std::filesystem::remove_all(base);
  return 0;
}
