// nftables NAT / published ports, exercised end to end. Every scenario runs
// in a forked child that unshares a fresh network namespace (nftables state
// is per netns), so the host's ruleset and links are never touched; the
// "containers" and an external client are further namespaces held by
// grandchildren that die with the child (PR_SET_PDEATHSIG). Failures travel
// back to the test process over a pipe.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "netplane/nat.h"
#include "base/fd.h"
#include "tests/support/bundle.h"

namespace {

using stack::UniqueFd;
using namespace stack::net;

struct Report {
  std::string text;
  void fail(const std::string& s) { text += s + "\n"; }
};
#define CHECK(cond, msg)                                                              \
  do {                                                                                \
    if (!(cond)) rep.fail("line " + std::to_string(__LINE__) + ": " #cond ": " + (msg)); \
  } while (0)

std::string sh(Report& rep, const std::string& cmd) {
  auto r = stack::test::run({"sh", "-c", cmd});
  if (r.status != 0) rep.fail("command failed: " + cmd + ": " + r.err);
  return r.out;
}

// Runs fn inside a fresh netns in a forked child; returns its failures.
std::string in_fresh_netns(const std::function<void(Report&)>& fn) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    Report rep;
    if (unshare(CLONE_NEWNET) != 0) {
      rep.fail("unshare(CLONE_NEWNET) failed");
    } else {
      sh(rep, "ip link set lo up");
      fn(rep);
    }
    size_t off = 0;
    while (off < rep.text.size()) {
      ssize_t n = write(p[1], rep.text.data() + off, rep.text.size() - off);
      if (n <= 0) break;
      off += n;
    }
    _exit(0);
  }
  close(p[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, n);
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) out += "scenario child died\n";
  return out;
}

// A sub-namespace held by a grandchild blocked until the scenario child exits.
struct SubNs {
  pid_t pid = -1;
  UniqueFd ns;
};
SubNs make_ns() {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWNET) != 0) _exit(1);
    (void)!write(ready[1], "x", 1);
    for (;;) pause();
  }
  close(ready[1]);
  char c;
  (void)!read(ready[0], &c, 1);
  close(ready[0]);
  SubNs s;
  s.pid = pid;
  s.ns.reset(open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  return s;
}

// Runs fn with the calling thread in netns `fd` (-1: stay), then returns.
template <class F>
auto in_ns(int fd, F fn) {
  UniqueFd self(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (fd >= 0) setns(fd, CLONE_NEWNET);
  auto r = fn();
  if (fd >= 0) setns(self.get(), CLONE_NEWNET);
  return r;
}

sockaddr_in addr(const std::string& ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  return sa;
}

void bounded(int fd) {
  timeval tv{2, 0};  // bounded wait only; never asserted on
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Servers answering "<name> <peer ip> <local port>" on tcp 3000-3002 and udp 3000.
void start_servers(int ns, const std::string& name) {
  std::vector<int> fds = in_ns(ns, [] {
    std::vector<int> v;
    for (int port = 3000; port <= 3002; ++port) {
      int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      auto sa = addr("0.0.0.0", port);
      bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      listen(s, 64);
      v.push_back(s);
    }
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto sa = addr("0.0.0.0", 3000);
    bind(u, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    v.push_back(u);
    return v;
  });
  std::thread([fds, name] {
    std::vector<pollfd> pfds;
    for (int f : fds) pfds.push_back({f, POLLIN, 0});
    for (;;) {
      if (poll(pfds.data(), pfds.size(), -1) <= 0) continue;
      for (size_t i = 0; i < pfds.size(); ++i) {
        if (!(pfds[i].revents & POLLIN)) continue;
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        char ip[INET_ADDRSTRLEN];
        if (i + 1 == pfds.size()) {
          char buf[64];
          ssize_t n = recvfrom(pfds[i].fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len);
          if (n < 0) continue;
          inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
          std::string msg = name + " " + ip + " 3000";
          sendto(pfds[i].fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&peer), len);
        } else {
          int c = accept4(pfds[i].fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
          if (c < 0) continue;
          inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
          std::string msg = name + " " + ip + " " + std::to_string(3000 + i);
          (void)!write(c, msg.data(), msg.size());
          close(c);
        }
      }
    }
  }).detach();
}

// Connects from netns `ns` (-1: the scenario's own) and returns the reply, or
// "ERR:<errno>".
std::string tcp_ask(int ns, const std::string& ip, uint16_t port) {
  return in_ns(ns, [&] {
    UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    bounded(s.get());
    auto sa = addr(ip, port);
    if (connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      return "ERR:" + std::to_string(errno);
    char buf[128];
    ssize_t n = read(s.get(), buf, sizeof buf);
    if (n < 0) return "ERR:" + std::to_string(errno);
    return std::string(buf, n);
  });
}

std::string udp_ask(int ns, const std::string& ip, uint16_t port) {
  return in_ns(ns, [&] {
    UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    bounded(s.get());
    auto sa = addr(ip, port);
    sendto(s.get(), "?", 1, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    char buf[128];
    ssize_t n = recv(s.get(), buf, sizeof buf, 0);
    if (n < 0) return "ERR:" + std::to_string(errno);
    return std::string(buf, n);
  });
}

std::string word(const std::string& s, int i) {
  size_t b = 0;
  for (int k = 0; k < i; ++k) b = s.find(' ', b) + 1;
  return s.substr(b, s.find(' ', b) - b);
}

// Puts veth end `cname` into `ns` as eth0 with `ip`/24 and a default route.
void attach(Report& rep, const SubNs& ns, const std::string& host_if, const std::string& master,
            const std::string& ip, const std::string& gw) {
  std::string c = host_if + "c";
  sh(rep, "ip link add " + host_if + " type veth peer name " + c + " && ip link set " + c +
              " netns " + std::to_string(ns.pid) + " && ip link set " + host_if +
              (master.empty() ? "" : " master " + master) + " up");
  in_ns(ns.ns.get(), [&] {
    return sh(rep, "ip link set lo up && ip link set " + c + " name eth0 && ip addr add " + ip +
                       "/24 dev eth0 && ip link set eth0 up && ip route add default via " + gw);
  });
}

// Host side of every scenario: bridge stkbr0 10.89.0.1/24 with containers c1
// (10.89.0.2) and c2 (10.89.0.3), and an external client 10.250.2.2 reaching
// the host at 10.250.2.1.
struct Topology {
  SubNs c1, c2, client;
};
void build(Report& rep, Topology& t) {
  sh(rep, "echo 1 > /proc/sys/net/ipv4/ip_forward");
  sh(rep, "ip link add stkbr0 type bridge && ip addr add 10.89.0.1/24 dev stkbr0 && ip link set stkbr0 up");
  t.c1 = make_ns();
  t.c2 = make_ns();
  t.client = make_ns();
  attach(rep, t.c1, "stkv1", "stkbr0", "10.89.0.2", "10.89.0.1");
  attach(rep, t.c2, "stkv2", "stkbr0", "10.89.0.3", "10.89.0.1");
  sh(rep, "ip link add stkx type veth peer name stkxc && ip link set stkxc netns " +
              std::to_string(t.client.pid) + " && ip addr add 10.250.2.1/24 dev stkx && ip link set stkx up");
  in_ns(t.client.ns.get(), [&] {
    return sh(rep, "ip link set lo up && ip addr add 10.250.2.2/24 dev stkxc && ip link set stkxc up "
                   "&& ip route add default via 10.250.2.1");
  });
  start_servers(t.c1.ns.get(), "c1");
  start_servers(t.c2.ns.get(), "c2");
  start_servers(t.client.ns.get(), "client");
}

// The host's ruleset minus table inet stack: other privileged tests running
// in parallel (ctest -j) legitimately change our own table in the host netns;
// what these tests guard is that work inside their private netns never
// reaches any host table. Stateless (-s): counters of other tables (podman's
// CNI chains count every local packet) move with any traffic on the host.
std::string host_ruleset() {
  std::string rs = stack::test::run({"nft", "-s", "list", "ruleset"}).out;
  std::string out;
  bool skipping = false;
  size_t pos = 0;
  while (pos < rs.size()) {
    size_t nl = rs.find('\n', pos);
    if (nl == std::string::npos) nl = rs.size();
    std::string line = rs.substr(pos, nl - pos);
    pos = nl + 1;
    if (line == "table inet stack {") skipping = true;
    if (!skipping) out += line + "\n";
    if (skipping && line == "}") skipping = false;
  }
  return out;
}

TEST(NetplaneNat, PublishedPortsBalanceUpdateAndUnpublish) {
  STACK_REQUIRE_ROOT();
  std::string before = host_ruleset();
  std::string failures = in_fresh_netns([](Report& rep) {
    Topology t;
    build(rep, t);
    auto nft = Nft::open();
    if (!nft) return rep.fail(nft.error().message());
    auto r = ensure_base(*nft);
    CHECK(r, r ? "" : r.error().message());
    r = ensure_base(*nft);  // idempotent
    CHECK(r, r ? "" : r.error().message());
    r = add_network(*nft, "front", "stkbr0", "10.89.0.0/24", false);
    CHECK(r, r ? "" : r.error().message());
    CHECK(sh(rep, "cat /proc/sys/net/ipv4/conf/stkbr0/route_localnet") == "1\n", "route_localnet");

    PortMapping web{"front", "", 8080, 0, "tcp", {{"10.89.0.2", 3000}, {"10.89.0.3", 3000}}};
    r = publish(*nft, web);
    CHECK(r, r ? "" : r.error().message());

    // Load balancing, client source kept (no SNAT for external clients).
    std::set<std::string> seen;
    for (int i = 0; i < 40; ++i) {
      std::string a = tcp_ask(t.client.ns.get(), "10.250.2.1", 8080);
      seen.insert(word(a, 0));
      CHECK(word(a, 1) == "10.250.2.2", "backend saw source of '" + a + "'");
    }
    CHECK(seen == (std::set<std::string>{"c1", "c2"}), "answers from " + std::to_string(seen.size()));
    // From the host itself: 127.0.0.1 (output chain + route_localnet) and its own address.
    std::string lo = tcp_ask(-1, "127.0.0.1", 8080);
    CHECK(lo.rfind("c", 0) == 0 && lo.find(" 3000") != std::string::npos, "127.0.0.1:8080 -> " + lo);
    std::string own = tcp_ask(-1, "10.250.2.1", 8080);
    CHECK(own.rfind("c", 0) == 0, "10.250.2.1:8080 from host -> " + own);
    // Hairpin: a container reaching the published port lands on a sibling or itself.
    for (int i = 0; i < 4; ++i) {
      std::string h = tcp_ask(t.c1.ns.get(), "10.250.2.1", 8080);
      CHECK(h.rfind("c", 0) == 0, "hairpin -> " + h);
    }

    auto again = publish(*nft, web);
    CHECK(!again && again.error().code == EEXIST, "second publish must fail with EEXIST");

    PortMapping one = web;
    one.backends = {{"10.89.0.3", 3000}};
    r = update_backends(*nft, one);
    CHECK(r, r ? "" : r.error().message());
    for (int i = 0; i < 10; ++i) {
      std::string a = tcp_ask(t.client.ns.get(), "10.250.2.1", 8080);
      CHECK(word(a, 0) == "c2", "after update_backends got '" + a + "'");
    }

    r = unpublish(*nft, one);
    CHECK(r, r ? "" : r.error().message());
    std::string gone = tcp_ask(t.client.ns.get(), "10.250.2.1", 8080);
    CHECK(gone == "ERR:" + std::to_string(ECONNREFUSED), "after unpublish got '" + gone + "'");

    PortMapping dns{"front", "", 8053, 0, "udp", {{"10.89.0.2", 3000}}};
    r = publish(*nft, dns);
    CHECK(r, r ? "" : r.error().message());
    std::string u = udp_ask(t.client.ns.get(), "10.250.2.1", 8053);
    CHECK(u == "c1 10.250.2.2 3000", "udp -> '" + u + "'");

    PortMapping range{"front", "", 9000, 9002, "tcp", {{"10.89.0.3", 3000}}};
    r = publish(*nft, range);
    CHECK(r, r ? "" : r.error().message());
    for (int p = 0; p <= 2; ++p) {
      std::string a = tcp_ask(t.client.ns.get(), "10.250.2.1", 9000 + p);
      CHECK(a == "c2 10.250.2.2 " + std::to_string(3000 + p), "range port " + std::to_string(9000 + p) + " -> '" + a + "'");
    }

    // Only on the given host address.
    PortMapping local{"front", "127.0.0.1", 8181, 0, "tcp", {{"10.89.0.2", 3001}}};
    r = publish(*nft, local);
    CHECK(r, r ? "" : r.error().message());
    std::string l1 = tcp_ask(-1, "127.0.0.1", 8181);
    CHECK(l1.rfind("c1 ", 0) == 0 && l1.find(" 3001") != std::string::npos, "127.0.0.1:8181 -> " + l1);
    std::string l2 = tcp_ask(t.client.ns.get(), "10.250.2.1", 8181);
    CHECK(l2.rfind("ERR:", 0) == 0, "8181 bound to 127.0.0.1 reachable from outside: " + l2);

    // Everything we created lives in table inet stack.
    std::string rs = sh(rep, "nft list ruleset");
    std::string tables;
    for (size_t pos = 0; (pos = rs.find("table ", pos)) != std::string::npos; pos += 6)
      if (pos == 0 || rs[pos - 1] == '\n') tables += rs.substr(pos, rs.find('\n', pos) - pos) + ";";
    CHECK(tables == "table inet stack {;", "tables: " + tables);
    CHECK(rs.find("stack:front:9000-9002/tcp") != std::string::npos, "range tag missing");

    r = remove_base(*nft);
    CHECK(r, r ? "" : r.error().message());
    CHECK(sh(rep, "nft list ruleset").find("table") == std::string::npos, "table left after remove_base");
    r = remove_base(*nft);  // absent table: no error
    CHECK(r, r ? "" : r.error().message());
  });
  EXPECT_EQ(failures, "");
  EXPECT_EQ(host_ruleset(), before) << "host ruleset changed";
}

TEST(NetplaneNat, InternalNetworksAndIsolation) {
  STACK_REQUIRE_ROOT();
  std::string before = host_ruleset();
  std::string failures = in_fresh_netns([](Report& rep) {
    Topology t;
    build(rep, t);
    sh(rep, "ip link add stkbr1 type bridge && ip addr add 10.89.1.1/24 dev stkbr1 && ip link set stkbr1 up");
    SubNs c3 = make_ns();
    attach(rep, c3, "stkv3", "stkbr1", "10.89.1.2", "10.89.1.1");
    start_servers(c3.ns.get(), "c3");
    auto nft = Nft::open();
    if (!nft) return rep.fail(nft.error().message());
    auto r = ensure_base(*nft);
    CHECK(r, r ? "" : r.error().message());
    r = add_network(*nft, "front", "stkbr0", "10.89.0.0/24", false);
    CHECK(r, r ? "" : r.error().message());
    r = add_network(*nft, "back", "stkbr1", "10.89.1.0/24", true);
    CHECK(r, r ? "" : r.error().message());
    auto bad = add_network(*nft, "x;flush ruleset", "stkbr9", "10.0.0.0/8", false);
    CHECK(!bad && bad.error().code == EINVAL, "invalid name accepted");

    std::string chain = sh(rep, "nft list chain inet stack snat_networks");
    CHECK(chain.find("ip saddr 10.89.0.0/24 oifname != \"stkbr0\" masquerade") != std::string::npos, chain);
    CHECK(chain.find("ip saddr 10.89.1.0/24 oifname != ") == std::string::npos, "internal network masqueraded: " + chain);

    // Egress from a normal network is masqueraded to the host's address.
    std::string e = tcp_ask(t.c1.ns.get(), "10.250.2.2", 3000);
    CHECK(e == "client 10.250.2.1 3000", "egress from front -> '" + e + "'");
    // Internal network: no egress; other bridges: no forwarding either way.
    std::string i = tcp_ask(c3.ns.get(), "10.250.2.2", 3000);
    CHECK(i.rfind("ERR:", 0) == 0, "internal network reached outside: " + i);
    std::string x = tcp_ask(t.c1.ns.get(), "10.89.1.2", 3000);
    CHECK(x.rfind("ERR:", 0) == 0, "front reached back: " + x);
    std::string y = tcp_ask(c3.ns.get(), "10.89.0.2", 3000);
    CHECK(y.rfind("ERR:", 0) == 0, "back reached front: " + y);
    // Same bridge still works.
    std::string s = tcp_ask(t.c1.ns.get(), "10.89.0.3", 3000);
    CHECK(s == "c2 10.89.0.2 3000", "same bridge -> '" + s + "'");

    r = remove_network(*nft, "back", "stkbr1");
    CHECK(r, r ? "" : r.error().message());
    CHECK(sh(rep, "nft list table inet stack").find("stack:back") == std::string::npos, "back rules left");
    r = remove_base(*nft);
    CHECK(r, r ? "" : r.error().message());
  });
  EXPECT_EQ(failures, "");
  EXPECT_EQ(host_ruleset(), before) << "host ruleset changed";
}

TEST(NetplaneNat, PortConflictRefusesBeforeCreatingRules) {
  STACK_REQUIRE_ROOT();
  std::string failures = in_fresh_netns([](Report& rep) {
    UniqueFd l(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto sa = addr("127.0.0.1", 7000);
    CHECK(bind(l.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && listen(l.get(), 1) == 0, "listen");
    auto c = port_conflict("127.0.0.1", 7000, "tcp");
    CHECK(c && *c, "listener on 127.0.0.1:7000 not detected");
    c = port_conflict("", 7000, "tcp");
    CHECK(c && *c, "listener not detected for any-address");
    c = port_conflict("127.0.0.1", 7001, "tcp");
    CHECK(c && !*c, "free port reported taken");
    c = port_conflict("127.0.0.1", 7000, "udp");
    CHECK(c && !*c, "udp port reported taken by a tcp listener");

    auto nft = Nft::open();
    if (!nft) return rep.fail(nft.error().message());
    CHECK(ensure_base(*nft), "ensure_base");
    PortMapping m{"front", "", 7000, 0, "tcp", {{"10.89.0.2", 3000}}};
    auto r = publish(*nft, m);
    CHECK(!r && r.error().code == EADDRINUSE, r ? "publish succeeded" : r.error().message());
    CHECK(sh(rep, "nft list chain inet stack dnat_ports").find("dport 7000") == std::string::npos, "rule created");
    CHECK(remove_base(*nft), "remove_base");
  });
  EXPECT_EQ(failures, "");
}

}  // namespace
