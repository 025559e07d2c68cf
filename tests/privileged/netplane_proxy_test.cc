// Published ports on IPv6 host addresses ("[::1]:8080:80", "::1:8080:80"):
// NetworkManager forwards them with its port proxy (port_proxy.h) to the
// replicas' IPv4 addresses. Real servers in named netns, real sockets, in the
// test's private netns (NetTest). Subnets 10.231.40-44.0/24, networks
// "t-nm-v6-*", ports 1848x.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "netplane/network_manager.h"
#include "tests/support/net_fixture.h"

namespace {

using namespace stack::net;
using stack::test::run;

class PortProxyTest : public stack::test::NetTest {
 protected:
  // A "replica": a netns on `network` whose httpd on :3000 serves `body`.
  EndpointInfo replica(const std::string& id, const std::string& network, const std::string& body) {
    std::string ns = make_ns(id);
    auto ep = mgr_->connect({id, network, ns});
    EXPECT_TRUE(ep) << (ep ? "" : ep.error().message());
    serve_http(ns, 3000, body);
    ns_of_[id] = ns;
    return ep ? *ep : EndpointInfo{};
  }
  // True when a host server can bind [ip]:port/proto right now (TCP with
  // SO_REUSEADDR, as servers do: the proxy's closed connections linger in
  // TIME_WAIT on the port).
  static bool can_bind(const std::string& ip, uint16_t port, int type = SOCK_STREAM) {
    stack::UniqueFd fd(::socket(AF_INET6, type | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (type == SOCK_STREAM) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    ::inet_pton(AF_INET6, ip.c_str(), &sa.sin6_addr);
    return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  }
  std::map<std::string, std::string> ns_of_;
};

TEST_F(PortProxyTest, LoopbackV6ReachesEveryReplicaBesideTheV4Mapping) {
  ASSERT_TRUE(mgr_->create_network({"t-nm-v6-a", "10.231.40.0/24", "", false, 1500}));
  auto r1 = replica("v6-r1", "t-nm-v6-a", "one\n");
  auto r2 = replica("v6-r2", "t-nm-v6-a", "two\n");
  serve_udp(ns_of_["v6-r1"], 3001, "udp-one");
  // "[::1]:18480:3000" next to "127.0.0.1:18480:3000": Compose users publish
  // localhost on both families; they are two mappings, not a conflict.
  PortMapping v6{"t-nm-v6-a", "::1", 18480, 0, "tcp", {{r1.address, 3000}, {r2.address, 3000}}};
  PortMapping v4{"t-nm-v6-a", "127.0.0.1", 18480, 0, "tcp", {{r1.address, 3000}}};
  PortMapping range{"t-nm-v6-a", "::1", 18481, 18482, "tcp", {{r2.address, 2999}}};  // 18482 -> 3000
  PortMapping udp{"t-nm-v6-a", "::1", 18483, 0, "udp", {{r1.address, 3001}}};
  ASSERT_OK(mgr_->publish(v6));
  ASSERT_OK(mgr_->publish(v4));
  ASSERT_OK(mgr_->publish(range));
  ASSERT_OK(mgr_->publish(udp));
  // A process started now (as stackd starts shims) must not inherit the
  // listeners, or the ports would stay taken after unpublish below.
  spawn_in_ns(ns_of_["v6-r2"], {"sleep", "60"});

  std::map<std::string, int> hits;
  for (int i = 0; i < 10; ++i) hits[http_get("", "::1", 18480)]++;
  EXPECT_EQ(hits["one\n"], 5);  // round robin per connection
  EXPECT_EQ(hits["two\n"], 5);
  EXPECT_EQ(http_get("", "127.0.0.1", 18480), "one\n");
  EXPECT_EQ(http_get("", "::1", 18482), "two\n");
  EXPECT_EQ(http_get("", "::1", 18481).rfind("ERR", 0), 0u);  // backend port 2999: nothing listens
  EXPECT_EQ(udp_ask("", "::1", 18483), "udp-one");
  // The port belongs to the mapping: a host process cannot take it, and the
  // manager says it is in use.
  EXPECT_FALSE(can_bind("::1", 18480));
  EXPECT_FALSE(can_bind("::1", 18483, SOCK_DGRAM));
  auto used = mgr_->port_in_use("::1", 18480, "tcp");
  ASSERT_TRUE(used);
  EXPECT_TRUE(*used);
  // A second mapping of the same address and port is refused.
  PortMapping again = v6;
  again.host_port_end = 18481;
  auto dup = mgr_->publish(again);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, EADDRINUSE) << dup.error().message();

  // Replica 2 leaves: new connections go to replica 1 only.
  PortMapping only1 = v6;
  only1.backends = {{r1.address, 3000}};
  ASSERT_OK(mgr_->update_backends(only1));
  std::set<std::string> after;
  for (int i = 0; i < 6; ++i) after.insert(http_get("", "::1", 18480));
  EXPECT_EQ(after, (std::set<std::string>{"one\n"}));

  for (const auto* m : {&only1, &v4, &range, &udp}) ASSERT_OK(mgr_->unpublish(*m));
  EXPECT_TRUE(can_bind("::1", 18480));
  EXPECT_TRUE(can_bind("::1", 18483, SOCK_DGRAM));
  EXPECT_EQ(http_get("", "::1", 18480), "ERR(" + std::to_string(ECONNREFUSED) + ")");
  ASSERT_OK(mgr_->disconnect({{"v6-r1", "t-nm-v6-a"}, {"v6-r2", "t-nm-v6-a"}}));
  ASSERT_OK(mgr_->remove_network("t-nm-v6-a"));
}

TEST_F(PortProxyTest, ReservedWithoutReplicasAndTakenPortsCreateNothing) {
  ASSERT_TRUE(mgr_->create_network({"t-nm-v6-b", "10.231.41.0/24", "", false, 1500}));
  // No healthy replica yet: the port is ours, connections fail.
  PortMapping m{"t-nm-v6-b", "::1", 18484, 0, "tcp", {}};
  ASSERT_OK(mgr_->publish(m));
  EXPECT_FALSE(can_bind("::1", 18484));
  EXPECT_EQ(http_get("", "::1", 18484).rfind("ERR", 0), 0u);
  auto r = replica("v6-r3", "t-nm-v6-b", "three\n");
  m.backends = {{r.address, 3000}};
  ASSERT_OK(mgr_->update_backends(m));
  EXPECT_EQ(http_get("", "::1", 18484), "three\n");

  // A host process holds [::1]:18485: publishing it fails, records nothing.
  stack::UniqueFd holder(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(18485);
  sa.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::bind(holder.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(holder.get(), 1), 0);
  PortMapping taken{"t-nm-v6-b", "::1", 18485, 0, "tcp", {{r.address, 3000}}};
  auto used = mgr_->port_in_use("::1", 18485, "tcp");
  ASSERT_TRUE(used);
  EXPECT_TRUE(*used);
  auto p = mgr_->publish(taken);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, EADDRINUSE);
  EXPECT_NE(p.error().message().find("[::1]:18485/tcp"), std::string::npos) << p.error().message();
  holder.reset();
  EXPECT_TRUE(can_bind("::1", 18485));  // the failed publish left nothing bound
  // A range where only the second port is taken leaves the first free too.
  stack::UniqueFd holder2(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sa.sin6_port = htons(18487);
  ASSERT_EQ(::bind(holder2.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  PortMapping range{"t-nm-v6-b", "::1", 18486, 18487, "tcp", {{r.address, 3000}}};
  ASSERT_FALSE(mgr_->publish(range));
  EXPECT_TRUE(can_bind("::1", 18486));
  // Not an IPv6 address at all; no port; a backend port range past 65535.
  for (const PortMapping& bad : {PortMapping{"t-nm-v6-b", "::zz", 18488, 0, "tcp", {}},
                                 PortMapping{"t-nm-v6-b", "::1", 0, 0, "tcp", {}},
                                 PortMapping{"t-nm-v6-b", "::1", 18488, 18489, "tcp", {{r.address, 65535}}}}) {
    auto b = mgr_->publish(bad);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().code, EINVAL) << b.error().message();
  }
  EXPECT_TRUE(can_bind("::1", 18488));

  ASSERT_OK(mgr_->unpublish(m));
  ASSERT_OK(mgr_->disconnect({{"v6-r3", "t-nm-v6-b"}}));
  ASSERT_OK(mgr_->remove_network("t-nm-v6-b"));
}

TEST_F(PortProxyTest, UdpRangesMapPortByPortAndAClientOutlivesARefusal) {
  ASSERT_TRUE(mgr_->create_network({"t-nm-v6-e", "10.231.44.0/24", "", false, 1500}));
  std::string ns = make_ns("v6-u1");
  auto ep = mgr_->connect({"v6-u1", "t-nm-v6-e", ns});
  ASSERT_TRUE(ep) << ep.error().message();
  serve_udp(ns, 3001, "udp-a");
  serve_udp(ns, 3002, "udp-b");
  PortMapping range{"t-nm-v6-e", "::1", 18492, 18494, "udp", {{ep->address, 3001}}};
  ASSERT_OK(mgr_->publish(range));
  EXPECT_EQ(udp_ask("", "::1", 18492), "udp-a");
  EXPECT_EQ(udp_ask("", "::1", 18493), "udp-b");
  // 18494 -> 3003, where nothing listens yet: the replica answers with
  // "port unreachable". The same client (same source port) is answered once
  // a server is there.
  EXPECT_EQ(udp_ask("", "::1", 18494, 40494).rfind("ERR", 0), 0u);
  serve_udp(ns, 3003, "udp-c");
  EXPECT_EQ(udp_ask("", "::1", 18494, 40494), "udp-c");
  ASSERT_OK(mgr_->unpublish(range));
  ASSERT_OK(mgr_->disconnect({{"v6-u1", "t-nm-v6-e"}}));
  ASSERT_OK(mgr_->remove_network("t-nm-v6-e"));
}

TEST_F(PortProxyTest, LargeBodiesArriveWholeThroughSplice) {
  ASSERT_TRUE(mgr_->create_network({"t-nm-v6-c", "10.231.42.0/24", "", false, 1500}));
  std::string big;
  for (int i = 0; big.size() < 3u << 20; ++i) big += "line " + std::to_string(i) + "\n";
  auto r = replica("v6-r4", "t-nm-v6-c", big);
  PortMapping m{"t-nm-v6-c", "::1", 18489, 0, "tcp", {{r.address, 3000}}};
  ASSERT_OK(mgr_->publish(m));
  std::string got = http_get("", "::1", 18489);
  EXPECT_EQ(got.size(), big.size());
  EXPECT_TRUE(got == big) << "body differs";
  // Removing the network takes its published ports with it.
  ASSERT_OK(mgr_->disconnect({{"v6-r4", "t-nm-v6-c"}}));
  ASSERT_OK(mgr_->remove_network("t-nm-v6-c"));
  EXPECT_TRUE(can_bind("::1", 18489));
}

TEST_F(PortProxyTest, ARestartedManagerServesKeptMappingsAgain) {
  ASSERT_TRUE(mgr_->create_network({"t-nm-v6-d", "10.231.43.0/24", "", false, 1500}));
  auto r = replica("v6-r5", "t-nm-v6-d", "five\n");
  PortMapping m{"t-nm-v6-d", "::1", 18490, 0, "tcp", {{r.address, 3000}}};
  PortMapping gone{"t-nm-v6-d", "::1", 18491, 0, "tcp", {{r.address, 3000}}};
  ASSERT_OK(mgr_->publish(m));
  ASSERT_OK(mgr_->publish(gone));
  // The daemon exits: its listeners go with the process.
  mgr_.reset();
  EXPECT_TRUE(can_bind("::1", 18490));
  mgr_ = open_manager();
  ASSERT_TRUE(mgr_);
  KeepSet keep;
  keep.networks = {"t-nm-v6-d"};
  keep.endpoints = {{"v6-r5", "t-nm-v6-d"}};
  keep.mappings = {m};
  auto rep = mgr_->sweep(keep);
  ASSERT_TRUE(rep) << rep.error().message();
  EXPECT_EQ(http_get("", "::1", 18490), "five\n");
  EXPECT_TRUE(can_bind("::1", 18491));  // not kept: not served
  // A second sweep that no longer keeps it closes it.
  keep.mappings.clear();
  ASSERT_TRUE(mgr_->sweep(keep));
  EXPECT_TRUE(can_bind("::1", 18490));
  ASSERT_OK(mgr_->disconnect({{"v6-r5", "t-nm-v6-d"}}));
  ASSERT_OK(mgr_->remove_network("t-nm-v6-d"));
}

}  // namespace
