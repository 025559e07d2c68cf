// Subnet parsing/containment and IPAM: pool allocation, leases, persistence.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "netplane/ipam.h"
#include "netplane/subnet.h"
#include "tests/support/bundle.h"

namespace {

using stack::net::AddressPool;
using stack::net::IpAddr;
using stack::net::Ipam;
using stack::net::Subnet;

Subnet S(const char* s) {
  auto r = Subnet::parse(s);
  EXPECT_TRUE(r) << s << ": " << r.error().message();
  return r ? *r : Subnet{};
}
IpAddr A(const char* s) {
  auto r = IpAddr::parse(s);
  EXPECT_TRUE(r) << s << ": " << r.error().message();
  return r ? *r : IpAddr{};
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Subnet, ParsesGoodCidrs) {
  struct Case {
    const char* in;
    const char* net;
    int prefix;
  } cases[] = {
      {"10.89.0.0/24", "10.89.0.0", 24}, {"0.0.0.0/0", "0.0.0.0", 0},
      {"192.168.1.7/32", "192.168.1.7", 32}, {"172.16.0.0/12", "172.16.0.0", 12},
      {"fd00:1::/64", "fd00:1::", 64}, {"::/0", "::", 0},
  };
  for (const auto& c : cases) {
    auto s = Subnet::parse(c.in);
    ASSERT_TRUE(s) << c.in << ": " << s.error().message();
    EXPECT_EQ(s->network().str(), c.net) << c.in;
    EXPECT_EQ(s->prefix(), c.prefix) << c.in;
    EXPECT_EQ(s->str(), c.in) << c.in;
  }
}

TEST(Subnet, RejectsBadCidrsWithTheInputInTheMessage) {
  struct Case {
    const char* in;
    const char* reason;
  } cases[] = {
      {"x", "missing /prefix"},
      {"10.89.0.0", "missing /prefix"},
      {"10.89.0.0/33", "prefix must be"},
      {"10.89.0.0/", "prefix must be"},
      {"10.89.0.0/-1", "prefix must be"},
      {"10.89.0.0/024", "prefix must be"},
      {"10.89.0.0/2a", "prefix must be"},
      {"10.89.0/24", "bad address"},
      {"10.89.0.256/24", "bad address"},
      {"010.89.0.0/24", "bad address"},
      {"/24", "bad address"},
      {"10.89.0.5/24", "host bits are set (did you mean 10.89.0.0/24?)"},
      {"fd00::1/64", "host bits are set"},
      {"fd00::/129", "prefix must be"},
      {"fd00:::/64", "bad address"},
  };
  for (const auto& c : cases) {
    auto s = Subnet::parse(c.in);
    ASSERT_FALSE(s) << c.in << " parsed as " << s->str();
    std::string msg = s.error().message();
    EXPECT_EQ(msg.rfind(std::string("invalid subnet \"") + c.in + "\": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.reason), std::string::npos) << msg;
  }
}

TEST(Subnet, ContainsAndOverlaps) {
  Subnet a = S("10.89.0.0/16"), b = S("10.89.3.0/24"), c = S("10.90.0.0/24");
  EXPECT_TRUE(a.contains(b));
  EXPECT_FALSE(b.contains(a));
  EXPECT_TRUE(a.overlaps(b));
  EXPECT_TRUE(b.overlaps(a));
  EXPECT_FALSE(a.overlaps(c));
  EXPECT_FALSE(c.overlaps(b));
  EXPECT_TRUE(S("0.0.0.0/0").overlaps(c));
  EXPECT_TRUE(b.contains(A("10.89.3.255")));
  EXPECT_FALSE(b.contains(A("10.89.4.0")));
  EXPECT_FALSE(b.contains(A("fd00::1")));
  EXPECT_FALSE(S("fd00::/8").overlaps(S("0.0.0.0/0")));
  EXPECT_TRUE(S("fd00::/8").contains(A("fdab::1")));
  EXPECT_TRUE(S("fd00:1::/64").overlaps(S("fd00::/16")));
}

TEST(Subnet, HostRangeGatewayBroadcast) {
  Subnet s = S("10.89.1.0/24");
  EXPECT_EQ(s.gateway().str(), "10.89.1.1");
  EXPECT_EQ(s.first_host().str(), "10.89.1.1");
  EXPECT_EQ(s.last_host().str(), "10.89.1.254");
  EXPECT_EQ(s.broadcast().str(), "10.89.1.255");
  EXPECT_EQ(s.host_count(), 254u);
  Subnet p = S("10.0.0.4/30");
  EXPECT_EQ(p.first_host().str(), "10.0.0.5");
  EXPECT_EQ(p.last_host().str(), "10.0.0.6");
  EXPECT_EQ(p.broadcast().str(), "10.0.0.7");
}

TEST(Subnet, SplitsIntoBlocksInAddressOrder) {
  Subnet s = S("192.168.0.0/16");
  ASSERT_EQ(s.subnet_count(20), 16u);
  EXPECT_EQ(s.nth_subnet(20, 0).str(), "192.168.0.0/20");
  EXPECT_EQ(s.nth_subnet(20, 1).str(), "192.168.16.0/20");
  EXPECT_EQ(s.nth_subnet(20, 15).str(), "192.168.240.0/20");
  EXPECT_EQ(s.subnet_count(8), 0u);
}

TEST(IpamPools, DefaultsAreDockers) {
  Ipam ipam;
  std::vector<std::string> got;
  for (int i = 0; i < 17; i++) {
    auto n = ipam.allocate_subnet("n" + std::to_string(i), {});
    ASSERT_TRUE(n) << n.error().message();
    got.push_back(n->subnet.str());
  }
  EXPECT_EQ(got[0], "172.17.0.0/16");
  EXPECT_EQ(got[14], "172.31.0.0/16");
  EXPECT_EQ(got[15], "192.168.0.0/20");
  EXPECT_EQ(got[16], "192.168.16.0/20");
  EXPECT_EQ(ipam.find("n0")->gateway.str(), "172.17.0.1");
}

TEST(IpamPools, SkipsAvoidedAndUsedSubnets) {
  Ipam ipam({{S("10.89.0.0/16"), 24}});
  ASSERT_TRUE(ipam.add_network("explicit", S("10.89.0.0/24")));
  // The host has a route covering 10.89.1.0/24 and an address in .2.
  std::vector<Subnet> avoid = {S("10.89.1.0/24"), S("10.89.2.7/32")};
  auto a = ipam.allocate_subnet("a", avoid);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->subnet.str(), "10.89.3.0/24");
  EXPECT_EQ(a->gateway.str(), "10.89.3.1");
  EXPECT_FALSE(a->user_subnet);
  auto b = ipam.allocate_subnet("b", avoid);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->subnet.str(), "10.89.4.0/24");
  // A name already known is an error, not a second subnet.
  auto again = ipam.allocate_subnet("a", avoid);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("already has subnet 10.89.3.0/24"), std::string::npos);
}

TEST(IpamPools, ExhaustedPoolsAreAnError) {
  Ipam ipam({{S("10.89.0.0/23"), 24}});
  ASSERT_TRUE(ipam.allocate_subnet("a", {}));
  auto b = ipam.allocate_subnet("b", {S("10.89.1.0/24")});
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message().find("allocate subnet for network b"), std::string::npos)
      << b.error().message();
}

TEST(IpamPools, ExplicitSubnetConflictNamesBothNetworks) {
  Ipam ipam({{S("10.89.0.0/16"), 24}});
  ASSERT_TRUE(ipam.allocate_subnet("frontend", {}));  // 10.89.0.0/24
  auto r = ipam.add_network("backend", S("10.89.0.0/16"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "network backend: subnet 10.89.0.0/16 overlaps network frontend (10.89.0.0/24)");
  ASSERT_TRUE(ipam.add_network("backend", S("10.89.5.0/24")));
  // Pool allocation then skips the explicitly requested block.
  for (int i = 1; i < 5; i++) ASSERT_TRUE(ipam.allocate_subnet("p" + std::to_string(i), {}));
  auto next = ipam.allocate_subnet("p5", {});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->subnet.str(), "10.89.6.0/24");
}

TEST(IpamPools, ExplicitSubnetRules) {
  Ipam ipam;
  EXPECT_FALSE(ipam.add_network("v6", S("fd00::/64")));
  EXPECT_FALSE(ipam.add_network("tiny", S("10.0.0.0/31")));
  auto gw = ipam.add_network("gw", S("10.1.0.0/24"), A("10.1.0.255"));
  ASSERT_FALSE(gw);
  EXPECT_NE(gw.error().message().find("gateway 10.1.0.255"), std::string::npos);
  auto ok = ipam.add_network("gw", S("10.1.0.0/24"), A("10.1.0.254"));
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->user_subnet);
  auto l = ipam.lease("gw", "c1");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->str(), "10.1.0.1");  // .1 is free when the gateway is .254
  ASSERT_TRUE(ipam.remove_network("gw"));
  EXPECT_EQ(ipam.find("gw"), nullptr);
  EXPECT_FALSE(ipam.remove_network("gw"));
  EXPECT_TRUE(ipam.add_network("gw2", S("10.1.0.0/24")));  // block is free again
}

TEST(IpamLeases, UniqueAcrossA24ThenExhaustion) {
  Ipam ipam;
  ASSERT_TRUE(ipam.add_network("backend", S("10.89.1.0/24")));
  std::set<std::string> seen;
  for (int i = 0; i < 253; i++) {
    auto a = ipam.lease("backend", "c" + std::to_string(i));
    ASSERT_TRUE(a) << i << ": " << a.error().message();
    EXPECT_TRUE(seen.insert(a->str()).second) << "duplicate " << a->str();
    EXPECT_NE(a->str(), "10.89.1.0");
    EXPECT_NE(a->str(), "10.89.1.1");
    EXPECT_NE(a->str(), "10.89.1.255");
    if (i == 0) {
      EXPECT_EQ(a->str(), "10.89.1.2");
    }
  }
  EXPECT_EQ(ipam.leases("backend").size(), 253u);
  auto full = ipam.lease("backend", "one-too-many");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().message(), "network backend 10.89.1.0/24: no free address");
  // Asking again for an id that holds an address returns it, even when full.
  auto same = ipam.lease("backend", "c7");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->str(), "10.89.1.9");
}

TEST(IpamLeases, StaticAddressRules) {
  Ipam ipam;
  ASSERT_TRUE(ipam.add_network("backend", S("10.89.1.0/24")));
  auto msg = [&](const char* id, const char* addr) {
    auto r = ipam.lease("backend", id, A(addr));
    return r ? std::string("ok ") + r->str() : r.error().message();
  };
  EXPECT_EQ(msg("db", "10.89.1.10"), "ok 10.89.1.10");
  EXPECT_EQ(msg("web", "10.89.1.10"),
            "network backend 10.89.1.0/24: address 10.89.1.10 is already in use by db");
  EXPECT_EQ(msg("web", "10.89.2.10"),
            "network backend 10.89.1.0/24: address 10.89.2.10 is outside the subnet");
  EXPECT_EQ(msg("web", "10.89.1.0"),
            "network backend 10.89.1.0/24: address 10.89.1.0 is the network address");
  EXPECT_EQ(msg("web", "10.89.1.255"),
            "network backend 10.89.1.0/24: address 10.89.1.255 is the broadcast address");
  EXPECT_EQ(msg("web", "10.89.1.1"),
            "network backend 10.89.1.0/24: address 10.89.1.1 is the gateway");
  EXPECT_EQ(msg("db", "10.89.1.10"), "ok 10.89.1.10");  // idempotent
  EXPECT_NE(msg("db", "10.89.1.11").find("endpoint db already holds 10.89.1.10"),
            std::string::npos);
  // Dynamic leases step around static ones.
  ASSERT_TRUE(ipam.lease("backend", "s", A("10.89.1.3")));
  EXPECT_EQ(ipam.lease("backend", "d1")->str(), "10.89.1.2");
  EXPECT_EQ(ipam.lease("backend", "d2")->str(), "10.89.1.4");
  EXPECT_FALSE(ipam.lease("nosuch", "x"));
}

TEST(IpamLeases, ReleaseLookupAndNoImmediateReuse) {
  Ipam ipam;
  ASSERT_TRUE(ipam.add_network("n", S("10.89.1.0/29")));  // hosts .1-.6, gw .1
  EXPECT_EQ(ipam.lease("n", "a")->str(), "10.89.1.2");
  EXPECT_EQ(ipam.lease("n", "b")->str(), "10.89.1.3");
  ASSERT_EQ(ipam.lookup("n", "a"), A("10.89.1.2"));
  ASSERT_TRUE(ipam.release("n", "a"));
  EXPECT_EQ(ipam.lookup("n", "a"), std::nullopt);
  auto again = ipam.release("n", "a");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message(), "network n 10.89.1.0/29: endpoint a holds no address");
  // The released .2 is not handed out next; the cursor moves on and wraps.
  EXPECT_EQ(ipam.lease("n", "c")->str(), "10.89.1.4");
  EXPECT_EQ(ipam.lease("n", "d")->str(), "10.89.1.5");
  EXPECT_EQ(ipam.lease("n", "e")->str(), "10.89.1.6");
  EXPECT_EQ(ipam.lease("n", "f")->str(), "10.89.1.2");  // wrapped
  EXPECT_FALSE(ipam.lease("n", "g"));
  auto ls = ipam.leases("n");
  ASSERT_EQ(ls.size(), 5u);
  EXPECT_EQ(ls.front().id, "f");  // sorted by address
  EXPECT_EQ(ls.back().id, "e");
}

TEST(IpamState, SaveLoadRoundTrip) {
  stack::test::TempDir dir("ipam-test");
  std::string path = dir.path() + "/ipam.json";
  Ipam ipam({{S("10.89.0.0/16"), 24}});
  ASSERT_TRUE(ipam.allocate_subnet("frontend", {}));
  ASSERT_TRUE(ipam.add_network("backend", S("10.90.0.0/24")));
  for (int i = 0; i < 5; i++) ASSERT_TRUE(ipam.lease("frontend", "f" + std::to_string(i)));
  ASSERT_TRUE(ipam.lease("backend", "db", A("10.90.0.50")));
  ASSERT_TRUE(ipam.lease("backend", "web"));
  ASSERT_TRUE(ipam.release("frontend", "f4"));  // cursor stays past .6
  auto saved = ipam.save(path);
  ASSERT_TRUE(saved) << saved.error().message();

  Ipam fresh({{S("10.89.0.0/16"), 24}});
  auto loaded = fresh.load(path);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(fresh.network_names(), (std::vector<std::string>{"backend", "frontend"}));
  for (const char* net : {"frontend", "backend"}) {
    auto a = ipam.leases(net), b = fresh.leases(net);
    ASSERT_EQ(a.size(), b.size()) << net;
    for (size_t i = 0; i < a.size(); i++) {
      EXPECT_EQ(a[i].id, b[i].id);
      EXPECT_EQ(a[i].address, b[i].address);
    }
    EXPECT_EQ(fresh.find(net)->gateway, ipam.find(net)->gateway);
    EXPECT_EQ(fresh.find(net)->user_subnet, ipam.find(net)->user_subnet);
  }
  EXPECT_EQ(fresh.to_json(), ipam.to_json());
  // The next allocations collide with nothing, and the just-released .6 is
  // still not reused first.
  auto next = fresh.lease("frontend", "new");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->str(), "10.89.0.7");
  auto sub = fresh.allocate_subnet("third", {});
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->subnet.str(), "10.89.1.0/24");
  // No temporary file is left behind.
  EXPECT_TRUE(read_file(path + ".tmp").empty());
}

TEST(IpamState, MissingFileIsAFirstStart) {
  stack::test::TempDir dir("ipam-test");
  Ipam ipam;
  ASSERT_TRUE(ipam.add_network("x", S("10.1.0.0/24")));
  ASSERT_TRUE(ipam.load(dir.path() + "/absent.json"));
  EXPECT_TRUE(ipam.network_names().empty());
}

TEST(IpamState, CorruptFileIsAnErrorAndKeepsState) {
  stack::test::TempDir dir("ipam-test");
  std::string path = dir.path() + "/ipam.json";
  const char* bad[] = {
      "{not json",
      "",
      "[]",
      R"({"version": 99, "networks": []})",
      R"({"version": 1})",
      R"({"version": 1, "networks": [{"name": "a"}]})",
      R"({"version": 1, "networks": [{"name": "a", "subnet": "10.1.0.0/24",
          "gateway": "10.1.0.1", "user_subnet": true, "cursor": "10.1.0.1",
          "leases": {"x": "10.1.0.9", "y": "10.1.0.9"}}]})",
      R"({"version": 1, "networks": [{"name": "a", "subnet": "10.1.0.0/24",
          "gateway": "10.1.0.1", "user_subnet": true, "cursor": "10.2.0.1",
          "leases": {}}]})",
      R"({"version": 1, "networks": [{"name": "a", "subnet": "10.1.0.0/24",
          "gateway": "10.1.0.1", "user_subnet": true, "cursor": "10.1.0.1", "leases": {}},
          {"name": "b", "subnet": "10.1.0.0/16",
          "gateway": "10.1.0.1", "user_subnet": true, "cursor": "10.1.0.1", "leases": {}}]})",
  };
  for (const char* text : bad) {
    { std::ofstream(path) << text; }
    Ipam ipam;
    ASSERT_TRUE(ipam.add_network("keep", S("10.200.0.0/24")));
    auto r = ipam.load(path);
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().message().find("load IPAM state from " + path), std::string::npos)
        << r.error().message();
    EXPECT_NE(ipam.find("keep"), nullptr) << "state changed by a failed load";
  }
}

}  // namespace
