// Bridges and veth endpoints through libnl, entirely inside network
// namespaces this test creates: a "host" netns H holding the bridge and two
// "container" namespaces C1, C2. Nothing is created in the real host netns;
// TearDown deletes the namespaces and checks the host's links are unchanged.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "netplane/bridge.h"
#include "netplane/ifname.h"
#include "netplane/netlink.h"
#include "netplane/veth.h"
#include "base/fd.h"
#include "tests/support/bundle.h"

namespace {

using nlohmann::json;
using stack::net::NetlinkSocket;
using stack::test::run;

std::set<std::string> host_link_names() {
  std::set<std::string> names;
  auto r = run({"ip", "-j", "link"});
  if (r.status != 0) return names;
  for (auto& l : json::parse(r.out)) names.insert(l.value("ifname", ""));
  return names;
}

json ip_json(const std::string& ns, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip", "-n", ns, "-j"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  if (r.status != 0 || r.out.empty()) return json::array();
  return json::parse(r.out);
}

std::set<std::string> link_names(const std::string& ns) {
  std::set<std::string> names;
  for (auto& l : ip_json(ns, {"link"})) names.insert(l.value("ifname", ""));
  return names;
}

bool has_addr(const json& iface, const std::string& ip, int prefix) {
  for (auto& a : iface.value("addr_info", json::array()))
    if (a.value("local", "") == ip && a.value("prefixlen", -1) == prefix) return true;
  return false;
}

bool has_flag(const json& iface, const std::string& flag) {
  for (auto& f : iface.value("flags", json::array()))
    if (f == flag) return true;
  return false;
}

class NetplaneLink : public ::testing::Test {
 protected:
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    static int counter = 0;
    host_before_ = host_link_names();
    std::string base = "stk-t-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    for (const char* suffix : {"-h", "-c1", "-c2"}) {
      std::string ns = base + suffix;
      auto r = run({"ip", "netns", "add", ns});
      ASSERT_EQ(r.status, 0) << r.err;
      made_.push_back(ns);
    }
    h_ = made_[0], c1_ = made_[1], c2_ = made_[2];
    for (auto* p : {&h_fd_, &c1_fd_, &c2_fd_}) {
      const std::string& ns = p == &h_fd_ ? h_ : p == &c1_fd_ ? c1_ : c2_;
      p->reset(::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
      ASSERT_TRUE(p->valid()) << ns << ": " << std::strerror(errno);
    }
    auto s = NetlinkSocket::open_in_netns(h_fd_.get(), h_);
    ASSERT_TRUE(s) << s.error().message();
    host_.emplace(std::move(*s));
  }

  void TearDown() override {
    host_.reset();
    h_fd_.reset(), c1_fd_.reset(), c2_fd_.reset();
    for (auto& ns : made_) run({"ip", "netns", "del", ns});
    if (made_.empty()) return;
    EXPECT_EQ(host_link_names(), host_before_) << "links leaked into the real host netns";
    auto list = run({"ip", "netns", "list"});
    for (auto& ns : made_) EXPECT_EQ(list.out.find(ns), std::string::npos) << ns << " left behind";
  }

  stack::net::EndpointSpec endpoint(const std::string& container, int netns_fd, const std::string& ip) {
    stack::net::EndpointSpec e;
    e.host_ifname = stack::net::endpoint_ifname(container, "testnet");
    e.netns_fd = netns_fd;
    e.netns_label = netns_fd == c1_fd_.get() ? c1_ : c2_;
    e.bridge = "stkbr0";
    e.address = ip + "/24";
    e.gateway = "10.250.7.1";
    e.mtu = 1400;
    e.network = "testnet";
    return e;
  }

  void make_bridge() {
    auto r = stack::net::ensure_bridge(*host_, "stkbr0", 1400, "10.250.7.1/24", "testnet");
    ASSERT_TRUE(r) << r.error().message();
  }

  std::set<std::string> host_before_;
  std::vector<std::string> made_;
  std::string h_, c1_, c2_;
  stack::UniqueFd h_fd_, c1_fd_, c2_fd_;
  std::optional<NetlinkSocket> host_;
};

TEST_F(NetplaneLink, EnsureBridgeIsIdempotentAndDeleteToo) {
  STACK_REQUIRE_ROOT();
  make_bridge();
  make_bridge();  // second call: no error, no duplicate address
  auto addrs = ip_json(h_, {"addr", "show", "dev", "stkbr0"});
  ASSERT_EQ(addrs.size(), 1u);
  EXPECT_TRUE(has_addr(addrs[0], "10.250.7.1", 24)) << addrs.dump();
  EXPECT_TRUE(has_flag(addrs[0], "UP")) << addrs.dump();
  EXPECT_EQ(addrs[0].value("mtu", 0), 1400);
  int v4 = 0;
  for (auto& a : addrs[0]["addr_info"]) v4 += a.value("family", "") == "inet";
  EXPECT_EQ(v4, 1);
  auto details = ip_json(h_, {"-d", "link", "show", "stkbr0"});
  ASSERT_EQ(details.size(), 1u);
  EXPECT_EQ(details[0]["linkinfo"].value("info_kind", ""), "bridge");

  auto tagged = stack::net::list_tagged_links(*host_, stack::net::kLinkTagPrefix);
  ASSERT_TRUE(tagged) << tagged.error().message();
  ASSERT_EQ(tagged->size(), 1u);
  EXPECT_EQ((*tagged)[0].name, "stkbr0");
  EXPECT_EQ((*tagged)[0].alias, "stack:testnet");
  EXPECT_EQ((*tagged)[0].type, "bridge");

  ASSERT_TRUE(stack::net::delete_bridge(*host_, "stkbr0"));
  EXPECT_EQ(link_names(h_).count("stkbr0"), 0u);
  EXPECT_TRUE(stack::net::delete_bridge(*host_, "stkbr0"));  // absent: fine
}

TEST_F(NetplaneLink, ExistingNonBridgeLinkIsAnError) {
  STACK_REQUIRE_ROOT();
  ASSERT_EQ(run({"ip", "-n", h_, "link", "add", "stkbr0", "type", "veth", "peer", "name", "stkpeer0"}).status, 0);
  auto r = stack::net::ensure_bridge(*host_, "stkbr0", 1400, "10.250.7.1/24", "testnet");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EEXIST) << r.error().message();
  EXPECT_NE(r.error().message().find("stkbr0"), std::string::npos);
  EXPECT_FALSE(stack::net::delete_bridge(*host_, "stkbr0"));  // refuses to delete a non-bridge
  EXPECT_EQ(link_names(h_).count("stkbr0"), 1u);
}

TEST_F(NetplaneLink, TwoEndpointsOnOneBridgeCanTalk) {
  STACK_REQUIRE_ROOT();
  make_bridge();
  auto e1 = endpoint("c1", c1_fd_.get(), "10.250.7.2");
  auto e2 = endpoint("c2", c2_fd_.get(), "10.250.7.3");
  auto t0 = std::chrono::steady_clock::now();
  auto r1 = stack::net::create_endpoint(*host_, e1);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(r1) << r1.error().message();
  auto r2 = stack::net::create_endpoint(*host_, e2);
  ASSERT_TRUE(r2) << r2.error().message();
  std::printf("[ timing   ] create_endpoint: %.2f ms\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count());

  for (auto [ns, ip] : {std::pair{c1_, "10.250.7.2"}, std::pair{c2_, "10.250.7.3"}}) {
    EXPECT_EQ(link_names(ns), (std::set<std::string>{"lo", "eth0"})) << ns;
    auto eth = ip_json(ns, {"addr", "show", "dev", "eth0"});
    ASSERT_EQ(eth.size(), 1u);
    EXPECT_TRUE(has_addr(eth[0], ip, 24)) << eth.dump();
    EXPECT_TRUE(has_flag(eth[0], "UP"));
    EXPECT_EQ(eth[0].value("mtu", 0), 1400);
    auto lo = ip_json(ns, {"link", "show", "dev", "lo"});
    ASSERT_EQ(lo.size(), 1u);
    EXPECT_TRUE(has_flag(lo[0], "UP"));
    auto routes = ip_json(ns, {"route", "show", "default"});
    ASSERT_EQ(routes.size(), 1u) << routes.dump();
    EXPECT_EQ(routes[0].value("gateway", ""), "10.250.7.1");
    EXPECT_EQ(routes[0].value("dev", ""), "eth0");
  }
  // Host ends: in H, enslaved to the bridge, up, tagged.
  for (auto& e : {e1, e2}) {
    auto l = ip_json(h_, {"link", "show", "dev", e.host_ifname});
    ASSERT_EQ(l.size(), 1u);
    EXPECT_EQ(l[0].value("master", ""), "stkbr0");
    EXPECT_TRUE(has_flag(l[0], "UP"));
  }
  auto tagged = stack::net::list_tagged_links(*host_, "stack:testnet");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->size(), 3u);  // bridge + two host ends

  // C1 reaches C2 and the gateway across the bridge (ARP may need a retry).
  auto ping = [](const std::string& ns, const std::string& ip) {
    for (int i = 0; i < 3; ++i)
      if (run({"ip", "netns", "exec", ns, "busybox", "ping", "-c1", "-W1", ip}).status == 0) return true;
    return false;
  };
  EXPECT_TRUE(ping(c1_, "10.250.7.3"));
  EXPECT_TRUE(ping(c2_, "10.250.7.2"));
  EXPECT_TRUE(ping(c1_, "10.250.7.1"));

  ASSERT_TRUE(stack::net::delete_endpoints(*host_, {e1.host_ifname, e2.host_ifname}));
  EXPECT_EQ(link_names(c1_), (std::set<std::string>{"lo"}));
  EXPECT_EQ(link_names(h_), (std::set<std::string>{"lo", "stkbr0"}));
}

TEST_F(NetplaneLink, ContainerIfnameTakenFailsAndLeaksNothing) {
  STACK_REQUIRE_ROOT();
  make_bridge();
  ASSERT_EQ(run({"ip", "-n", c1_, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer"}).status, 0);
  auto e = endpoint("c1", c1_fd_.get(), "10.250.7.2");
  auto r = stack::net::create_endpoint(*host_, e);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EEXIST) << r.error().message();
  EXPECT_NE(r.error().message().find(e.host_ifname), std::string::npos) << r.error().message();
  EXPECT_EQ(link_names(h_), (std::set<std::string>{"lo", "stkbr0"}));
  EXPECT_EQ(link_names(c1_), (std::set<std::string>{"lo", "eth0", "eth0peer"}));
}

TEST_F(NetplaneLink, FailureAfterCreateRollsBackTheVeth) {
  STACK_REQUIRE_ROOT();
  make_bridge();
  auto e = endpoint("c2", c2_fd_.get(), "10.250.7.3");
  e.gateway = "10.99.0.1";  // not on eth0's subnet: the route step fails after the pair exists
  auto r = stack::net::create_endpoint(*host_, e);
  ASSERT_FALSE(r);
  std::printf("[ message  ] %s\n", r.error().message().c_str());
  EXPECT_EQ(r.error().code, ENETUNREACH) << r.error().message();
  EXPECT_NE(r.error().message().find("default route"), std::string::npos) << r.error().message();
  EXPECT_EQ(link_names(h_), (std::set<std::string>{"lo", "stkbr0"}));
  EXPECT_EQ(link_names(c2_), (std::set<std::string>{"lo"}));
}

TEST_F(NetplaneLink, BatchedDeleteRemovesAllEndpoints) {
  STACK_REQUIRE_ROOT();
  make_bridge();
  constexpr int kN = 20;
  // 20 pairs whose peers all land in C1 (as e0..e19: one netns holds one
  // eth0), without default routes (only one may exist).
  auto make_all = [&](std::vector<std::string>& names) {
    names.clear();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kN; ++i) {
      auto e = endpoint("c" + std::to_string(i), c1_fd_.get(), "10.250.7." + std::to_string(10 + i));
      e.container_ifname = "e" + std::to_string(i);
      e.gateway = "";
      auto r = stack::net::create_endpoint(*host_, e);
      if (!r) {
        ADD_FAILURE() << r.error().message();
        return 0.0;
      }
      names.push_back(e.host_ifname);
    }
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / kN;
  };
  std::vector<std::string> names;
  double per = make_all(names);
  ASSERT_EQ(names.size(), size_t(kN));
  EXPECT_EQ(link_names(c1_).size(), size_t(kN + 1));
  auto t0 = std::chrono::steady_clock::now();
  for (auto& n : names) ASSERT_TRUE(stack::net::delete_endpoint(*host_, n));
  double one_by_one = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(link_names(h_), (std::set<std::string>{"lo", "stkbr0"}));

  make_all(names);
  ASSERT_EQ(names.size(), size_t(kN));
  names.push_back("sknotthere0000");  // absent names are not an error
  t0 = std::chrono::steady_clock::now();
  auto r = stack::net::delete_endpoints(*host_, names);
  double batched = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(link_names(h_), (std::set<std::string>{"lo", "stkbr0"}));
  EXPECT_EQ(link_names(c1_), (std::set<std::string>{"lo"}));
  std::printf("[ timing   ] %d endpoints: create %.2f ms each; delete one-by-one %.2f ms, batched %.2f ms\n",
              kN, per, one_by_one, batched);

  // The socket is still usable after the batch (sequence numbers in step).
  auto tagged = stack::net::list_tagged_links(*host_, stack::net::kLinkTagPrefix);
  ASSERT_TRUE(tagged) << tagged.error().message();
  EXPECT_EQ(tagged->size(), 1u);
  EXPECT_TRUE(stack::net::delete_bridge(*host_, "stkbr0"));
}

}  // namespace
