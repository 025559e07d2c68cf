// NetworkManager against the real kernel: bridges, veths, IPAM, nft rules,
// tc and crash recovery. Each test's "host" is a private netns (NetTest);
// containers are named netns with busybox processes entered by nsenter.
// Subnets 10.231.0.0/16, network names "t-nm-*".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "netplane/ifname.h"
#include "netplane/netns.h"
#include "netplane/network_manager.h"
#include "tests/support/net_fixture.h"

namespace {

using namespace stack::net;
using stack::test::run;

class NetworkManagerTest : public stack::test::NetTest {};

std::string link_line(const std::string& ns, const std::string& name) {
  std::vector<std::string> a;
  if (!ns.empty()) a = {"nsenter", "--net=" + ns};
  for (const char* s : {"ip", "-o", "-d", "link", "show", "dev"}) a.push_back(s);
  a.push_back(name);
  auto r = run(a);
  return r.status == 0 ? r.out : "";
}

TEST_F(NetworkManagerTest, NamedNetnsCreateDeleteAndErrors) {
  std::string ns = netns_dir_ + "/n1";
  ASSERT_OK(create_netns(ns));
  EXPECT_TRUE(netns_exists(ns));
  EXPECT_TRUE(stack::test::mounted(ns));
  // Its own namespace, with lo up and nothing else.
  std::string links = run({"nsenter", "--net=" + ns, "ip", "-o", "link"}).out;
  EXPECT_NE(links.find("lo: <LOOPBACK,UP,LOWER_UP>"), std::string::npos) << links;
  EXPECT_EQ(links.find("2: "), std::string::npos) << links;
  auto again = create_netns(ns);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, EEXIST);
  EXPECT_FALSE(create_netns("relative/path"));
  auto fd = open_netns(ns);
  ASSERT_TRUE(fd) << fd.error().message();
  auto not_ns = open_netns(state_dir_ + "/ipam.json");
  EXPECT_FALSE(not_ns);
  ASSERT_OK(delete_netns(ns));
  EXPECT_FALSE(netns_exists(ns));
  EXPECT_FALSE(stack::test::mounted(ns));
  EXPECT_FALSE(std::filesystem::exists(ns));
  ASSERT_OK(delete_netns(ns));  // absent: fine
  // The netns dir is a private mount: nothing made under it propagates.
  std::string mi = stack::test::read_file("/proc/self/mountinfo");
  auto line = mi.substr(mi.find(" " + netns_dir_ + " "));
  line = line.substr(0, line.find('\n'));
  EXPECT_EQ(line.find("shared:"), std::string::npos) << line;
}

TEST_F(NetworkManagerTest, NetworksAvoidHostRoutesAndAreIdempotent) {
  ASSERT_EQ(run({"sh", "-c", "ip link add t-nm-dummy type bridge && ip addr add 10.231.4.1/24 dev t-nm-dummy "
                             "&& ip link set t-nm-dummy up"}).status, 0);
  stack::test::TempDir other("stack-nm-pools");
  auto m = NetworkManager::open(other.path(), {AddressPool{*Subnet::parse("10.231.4.0/22"), 24}});
  ASSERT_TRUE(m) << m.error().message();
  auto a = (*m)->create_network({"t-nm-pool", "", "", false, 1400});
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->subnet, "10.231.5.0/24");  // .4 is the host's own network
  EXPECT_EQ(a->gateway, "10.231.5.1");
  EXPECT_EQ(a->bridge.rfind("stk-", 0), 0u);
  EXPECT_LE(a->bridge.size(), 15u);
  std::string br = link_line("", a->bridge);
  EXPECT_NE(br.find("mtu 1400"), std::string::npos) << br;
  EXPECT_NE(br.find("alias stack:t-nm-pool"), std::string::npos) << br;
  EXPECT_NE(run({"ip", "-o", "addr", "show", "dev", a->bridge}).out.find("10.231.5.1/24"), std::string::npos);

  auto again = (*m)->create_network({"t-nm-pool", "", "", false, 1400});
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->subnet, a->subnet);
  EXPECT_EQ(again->bridge, a->bridge);
  auto clash = (*m)->create_network({"t-nm-pool", "10.231.7.0/24", "", false, 1500});
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, EEXIST) << clash.error().message();
  auto bad = (*m)->create_network({"t-nm;flush ruleset", "", "", false, 1500});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, EINVAL);
  EXPECT_EQ((*m)->networks().size(), 1u);

  // State survives a restart of the manager.
  m->reset();
  auto m2 = NetworkManager::open(other.path(), {AddressPool{*Subnet::parse("10.231.4.0/22"), 24}});
  ASSERT_TRUE(m2) << m2.error().message();
  auto found = (*m2)->find_network("t-nm-pool");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->subnet, "10.231.5.0/24");
  EXPECT_EQ(found->mtu, 1400u);
  ASSERT_OK((*m2)->remove_network("t-nm-pool"));
  ASSERT_OK((*m2)->remove_network("t-nm-pool"));  // absent: fine
  EXPECT_EQ(link_line("", a->bridge), "");
  EXPECT_FALSE((*m2)->find_network("t-nm-pool"));
  run({"ip", "link", "del", "t-nm-dummy"});
}

TEST_F(NetworkManagerTest, EndpointsConnectReachEachOtherAndDisconnectInOneBatch) {
  auto net = mgr_->create_network({"t-nm-a", "10.231.10.0/24", "", false, 1500});
  ASSERT_TRUE(net) << net.error().message();
  std::string n1 = make_ns("c1"), n2 = make_ns("c2"), n3 = make_ns("c3");
  auto e1 = mgr_->connect({"c1", "t-nm-a", n1});
  ASSERT_TRUE(e1) << e1.error().message();
  auto e2 = mgr_->connect({"c2", "t-nm-a", n2, "eth0", "10.231.10.50"});
  ASSERT_TRUE(e2) << e2.error().message();
  EXPECT_EQ(e1->address, "10.231.10.2");
  EXPECT_EQ(e2->address, "10.231.10.50");
  EXPECT_EQ(e1->gateway, "10.231.10.1");
  EXPECT_EQ(e1->host_ifname, endpoint_ifname("c1", "t-nm-a"));
  EXPECT_EQ(e1->mac.size(), 17u) << e1->mac;
  std::string eth0 = link_line(n1, "eth0");
  EXPECT_NE(eth0.find(e1->mac), std::string::npos) << eth0;
  EXPECT_NE(run({"nsenter", "--net=" + n1, "ip", "route"}).out.find("default via 10.231.10.1"), std::string::npos);
  // Hairpin on the bridge port: a container can reach its own published port.
  std::string port = run({"bridge", "-d", "link", "show", "dev", e1->host_ifname}).out;
  EXPECT_NE(port.find("hairpin on"), std::string::npos) << port;

  // Restart-safe: the same endpoint comes back unchanged, nothing new made.
  auto again = mgr_->connect({"c1", "t-nm-a", n1});
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->address, e1->address);
  EXPECT_EQ(again->mac, e1->mac);
  EXPECT_EQ(mgr_->endpoint_address("c2", "t-nm-a"), "10.231.10.50");
  auto moved = mgr_->connect({"c2", "t-nm-a", n2, "eth0", "10.231.10.51"});
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code, EEXIST);
  EXPECT_NE(link_line(n2, "eth0").find(e2->mac), std::string::npos) << "endpoint touched by a failed connect";

  EXPECT_TRUE(ping(n1, "10.231.10.50"));
  EXPECT_TRUE(ping(n2, "10.231.10.1"));  // the gateway
  serve_http(n2, 3000, "hello from c2\n");
  EXPECT_EQ(http_get(n1, "10.231.10.50", 3000), "hello from c2\n");

  // Egress limit: a tbf root qdisc on the container side.
  auto e3 = mgr_->connect({"c3", "t-nm-a", n3, "eth0", "", true, 1'000'000});
  ASSERT_TRUE(e3) << e3.error().message();
  std::string q = run({"nsenter", "--net=" + n3, "tc", "qdisc", "show", "dev", "eth0"}).out;
  EXPECT_NE(q.find("qdisc tbf 1: root"), std::string::npos) << q;
  EXPECT_NE(q.find("rate 8Mbit"), std::string::npos) << q;

  // A fixed MAC address (Compose's mac_address) on the container end.
  std::string n5 = make_ns("c5");
  EndpointRequest fixed{"c5", "t-nm-a", n5};
  fixed.mac_address = "02:42:0a:e7:0a:63";
  auto e5 = mgr_->connect(fixed);
  ASSERT_TRUE(e5) << e5.error().message();
  EXPECT_EQ(e5->mac, "02:42:0a:e7:0a:63");
  EXPECT_NE(link_line(n5, "eth0").find("link/ether 02:42:0a:e7:0a:63"), std::string::npos) << link_line(n5, "eth0");
  EXPECT_TRUE(ping(n5, "10.231.10.50"));
  ASSERT_OK(mgr_->disconnect({{"c5", "t-nm-a"}}));

  // A taken static address or a bad request changes nothing.
  std::string n4 = make_ns("c4");
  auto dup = mgr_->connect({"c4", "t-nm-a", n4, "eth0", "10.231.10.50"});
  EXPECT_FALSE(dup);
  auto nonet = mgr_->connect({"c4", "t-nm-none", n4});
  ASSERT_FALSE(nonet);
  EXPECT_EQ(nonet.error().code, ENOENT);
  auto nons = mgr_->connect({"c4", "t-nm-a", netns_dir_ + "/missing"});
  EXPECT_FALSE(nons);
  EndpointRequest bad_mac{"c4", "t-nm-a", n4};
  bad_mac.mac_address = "02:42:zz:00:00:01";
  auto badmac = mgr_->connect(bad_mac);
  ASSERT_FALSE(badmac);
  EXPECT_EQ(badmac.error().code, EINVAL);
  EXPECT_FALSE(mgr_->endpoint_address("c4", "t-nm-a"));
  EXPECT_EQ(link_line("", endpoint_ifname("c4", "t-nm-a")), "");

  auto busy = mgr_->remove_network("t-nm-a");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, EBUSY);
  EXPECT_NE(busy.error().message().find("c1"), std::string::npos) << busy.error().message();

  ASSERT_OK(mgr_->disconnect({{"c1", "t-nm-a"}, {"c2", "t-nm-a"}, {"c3", "t-nm-a"}, {"c9", "t-nm-a"}}));
  EXPECT_EQ(link_line("", e1->host_ifname), "");
  EXPECT_EQ(link_line(n1, "eth0"), "");
  EXPECT_FALSE(mgr_->endpoint_address("c1", "t-nm-a"));
  ASSERT_OK(mgr_->remove_network("t-nm-a"));
}

TEST_F(NetworkManagerTest, NetworksAreIsolatedAndInternalHasNoEgress) {
  // An "outside" host reached through the test host: 10.231.200.2 behind 10.231.200.1.
  std::string out_ns = make_ns("outside");
  ASSERT_EQ(run({"sh", "-c", "ip link add t-nm-up type veth peer name t-nm-upc && ip link set t-nm-upc netns " +
                                 out_ns + " && ip addr add 10.231.200.1/24 dev t-nm-up && ip link set t-nm-up up"})
                .status, 0);
  ASSERT_EQ(in_ns(out_ns, {"sh", "-c", "ip addr add 10.231.200.2/24 dev t-nm-upc && ip link set t-nm-upc up"}).status, 0);
  serve_http(out_ns, 3000, "outside\n");

  ASSERT_TRUE(mgr_->create_network({"t-nm-front", "10.231.11.0/24", "", false, 1500}));
  ASSERT_TRUE(mgr_->create_network({"t-nm-back", "10.231.12.0/24", "", true, 1500}));
  std::string f = make_ns("f"), b = make_ns("b");
  auto ef = mgr_->connect({"f", "t-nm-front", f});
  auto eb = mgr_->connect({"b", "t-nm-back", b});
  ASSERT_TRUE(ef && eb);
  serve_http(f, 3000, "front\n");
  serve_http(b, 3000, "back\n");

  EXPECT_EQ(http_get(f, "10.231.200.2", 3000), "outside\n");  // egress, masqueraded
  EXPECT_EQ(http_get(b, "10.231.200.2", 3000).rfind("ERR", 0), 0u);  // internal: none
  EXPECT_EQ(http_get(f, eb->address, 3000).rfind("ERR", 0), 0u);     // no cross-network
  EXPECT_EQ(http_get(b, ef->address, 3000).rfind("ERR", 0), 0u);
  EXPECT_FALSE(ping(f, eb->address));

  ASSERT_OK(mgr_->disconnect({{"f", "t-nm-front"}, {"b", "t-nm-back"}}));
  ASSERT_OK(mgr_->remove_network("t-nm-front"));
  ASSERT_OK(mgr_->remove_network("t-nm-back"));
  run({"ip", "link", "del", "t-nm-up"});
}

TEST_F(NetworkManagerTest, PortConflictIsReportedAndCreatesNothing) {
  ASSERT_TRUE(mgr_->create_network({"t-nm-p", "10.231.13.0/24", "", false, 1500}));
  int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(18080);
  sa.sin_addr.s_addr = htonl(INADDR_ANY);
  ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(l, 1), 0);

  auto used = mgr_->port_in_use("", 18080, "tcp");
  ASSERT_TRUE(used);
  EXPECT_TRUE(*used);
  PortMapping m{"t-nm-p", "", 18080, 0, "tcp", {{"10.231.13.2", 3000}}};
  auto r = mgr_->publish(m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EADDRINUSE);
  EXPECT_NE(r.error().message().find("18080"), std::string::npos) << r.error().message();
  EXPECT_EQ(run({"nft", "list", "chain", "inet", "stack", "dnat_ports"}).out.find("18080"), std::string::npos);
  ::close(l);

  // Our own mappings count as taken, for overlapping ranges too.
  PortMapping range{"t-nm-p", "", 18000, 18010, "tcp", {{"10.231.13.2", 3000}}};
  ASSERT_OK(mgr_->publish(range));
  auto own = mgr_->port_in_use("127.0.0.1", 18005, "tcp");
  ASSERT_TRUE(own);
  EXPECT_TRUE(*own);
  auto udp = mgr_->port_in_use("127.0.0.1", 18005, "udp");
  ASSERT_TRUE(udp);
  EXPECT_FALSE(*udp);
  PortMapping overlap{"t-nm-p", "", 18010, 0, "tcp", {{"10.231.13.3", 3000}}};
  auto o = mgr_->publish(overlap);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, EADDRINUSE);
  auto twice = mgr_->publish(range);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, EEXIST);
  // remove_network takes the network's published ports with it.
  ASSERT_OK(mgr_->remove_network("t-nm-p"));
}

TEST_F(NetworkManagerTest, SweepAfterKillNineLeavesNothing) {
  mgr_.reset();  // the child owns the state dir until it dies
  std::string ns = netns_dir_ + "/victim";
  netns_.push_back(ns);
  pid_t pid = ::fork();
  if (pid == 0) {
    auto m = NetworkManager::open(state_dir_);
    if (!m) _exit(2);
    if (!(*m)->create_network({"t-nm-crash", "10.231.14.0/24", "", false, 1500})) _exit(3);
    if (!create_netns(ns)) _exit(4);
    if (!(*m)->connect({"victim", "t-nm-crash", ns})) _exit(5);
    if (!(*m)->publish({"t-nm-crash", "", 18100, 0, "tcp", {{"10.231.14.2", 3000}}})) _exit(6);
    ::kill(::getpid(), SIGKILL);  // mid-setup: no cleanup runs
    _exit(7);
  }
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "child status " << st;
  EXPECT_EQ(tagged_links().size(), 2u);  // the leftovers the sweep must find
  EXPECT_NE(run({"nft", "list", "chain", "inet", "stack", "dnat_ports"}).out.find("stack:t-nm-crash:18100/tcp"),
            std::string::npos);

  mgr_ = open_manager();
  ASSERT_TRUE(mgr_);
  auto rep = mgr_->sweep({});
  ASSERT_TRUE(rep) << rep.error().message();
  EXPECT_EQ(rep->removed_networks, std::vector<std::string>{"t-nm-crash"});
  EXPECT_EQ(rep->released_leases, std::vector<std::string>{"t-nm-crash/victim"});
  EXPECT_EQ(rep->removed_links.size(), 2u);
  EXPECT_EQ(tagged_links(), std::vector<std::string>{});
  EXPECT_EQ(tagged_rules(), std::vector<std::string>{});
  EXPECT_TRUE(mgr_->networks().empty());
  // A new manager sees the swept state.
  mgr_ = open_manager();
  EXPECT_TRUE(mgr_->networks().empty());
  ASSERT_OK(delete_netns(ns));  // the netns is the engine's, not the manager's
}

TEST_F(NetworkManagerTest, SweepKeepsWantedStateAndRecreatesMissingBridges) {
  ASSERT_TRUE(mgr_->create_network({"t-nm-keep", "10.231.15.0/24", "", false, 1500}));
  ASSERT_TRUE(mgr_->create_network({"t-nm-drop", "10.231.16.0/24", "", false, 1500}));
  std::string k = make_ns("k"), d = make_ns("d");
  auto ek = mgr_->connect({"k", "t-nm-keep", k});
  ASSERT_TRUE(ek);
  ASSERT_TRUE(mgr_->connect({"d", "t-nm-keep", d}));
  PortMapping keep_map{"t-nm-keep", "", 18200, 0, "tcp", {{ek->address, 3000}}};
  ASSERT_OK(mgr_->publish(keep_map));
  ASSERT_OK(mgr_->publish({"t-nm-keep", "", 18201, 0, "tcp", {{ek->address, 3000}}}));
  auto info = mgr_->find_network("t-nm-keep");
  ASSERT_TRUE(info);
  ASSERT_EQ(run({"ip", "link", "del", info->bridge}).status, 0);  // e.g. lost in a reboot

  mgr_ = open_manager();
  KeepSet keep;
  keep.networks = {"t-nm-keep"};
  keep.endpoints = {{"k", "t-nm-keep"}};
  keep.mappings = {keep_map};
  auto rep = mgr_->sweep(keep);
  ASSERT_TRUE(rep) << rep.error().message();
  EXPECT_EQ(rep->removed_networks, std::vector<std::string>{"t-nm-drop"});
  EXPECT_EQ(rep->released_leases, std::vector<std::string>{"t-nm-keep/d"});
  EXPECT_NE(link_line("", info->bridge).find("alias stack:t-nm-keep"), std::string::npos);
  EXPECT_EQ(link_line("", endpoint_ifname("d", "t-nm-keep")), "");
  EXPECT_EQ(mgr_->endpoint_address("k", "t-nm-keep"), ek->address);
  std::string rules = run({"nft", "list", "chain", "inet", "stack", "dnat_ports"}).out;
  EXPECT_NE(rules.find("stack:t-nm-keep:18200/tcp"), std::string::npos) << rules;
  EXPECT_EQ(rules.find("18201"), std::string::npos) << rules;
  // The kept endpoint is re-attached to the re-made bridge by connect().
  auto re = mgr_->connect({"k", "t-nm-keep", k});
  ASSERT_TRUE(re) << re.error().message();
  EXPECT_EQ(re->address, ek->address);
  EXPECT_TRUE(ping(k, info->gateway));

  ASSERT_OK(mgr_->unpublish(keep_map));
  ASSERT_OK(mgr_->disconnect({{"k", "t-nm-keep"}}));
  ASSERT_OK(mgr_->remove_network("t-nm-keep"));
}

}  // namespace
