// End to end: real busybox containers (stack-runtime, the default
// Docker-equivalent spec) whose network namespace is a named netns the
// NetworkManager wired up, reached from each other, from the test host
// (127.0.0.1 and an address of its own on a test-made bridge (no dummy module here)) and through
// published ports. The test host is a private netns (NetTest). Subnets
// 10.231.20-29.0/24, networks "t-nm-e2e-*".
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "netplane/network_manager.h"
#include "tests/support/net_fixture.h"

namespace {

using namespace stack::net;
using stack::test::Bundle;
using stack::test::CmdResult;
using stack::test::run;

class NetE2eTest : public stack::test::NetTest {
 protected:
  void SetUp() override {
    NetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    rt_root_ = std::make_unique<stack::test::TempDir>("stack-nm-rt");
    // The test host's own address, as a LAN address would be.
    ASSERT_EQ(run({"sh", "-c", "ip link add t-nm-host type bridge && ip addr add 10.231.29.1/24 dev t-nm-host "
                               "&& ip link set t-nm-host up"}).status, 0);
  }
  void remove_containers() {
    for (auto& [id, b] : containers_) {
      CmdResult r = rt({"delete", "--force", id});
      EXPECT_EQ(r.status, 0) << "delete " << id << ": " << r.err;
    }
    containers_.clear();
  }
  void TearDown() override {
    remove_containers();
    if (rt_root_) run({"ip", "link", "del", "t-nm-host"});
    NetTest::TearDown();
    rt_root_.reset();
  }

  CmdResult rt(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {stack::test::binary("stack-runtime"), "--root", rt_root_->path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  // A detached busybox container `id` in a fresh netns connected to
  // `network`; /www*/index.html hold `pages`; runs `script` under sh.
  EndpointInfo start(const std::string& id, const std::string& network, const std::string& script,
                     const std::map<std::string, std::string>& pages = {}) {
    std::string ns = make_ns(id);
    auto ep = mgr_->connect({id, network, ns});
    EXPECT_TRUE(ep) << (ep ? "" : ep.error().message());
    auto b = std::make_unique<Bundle>();
    for (const auto& [dir, body] : pages) {
      std::filesystem::create_directories(b->rootfs() + "/" + dir);
      std::ofstream(b->rootfs() + "/" + dir + "/index.html") << body;
    }
    for (auto& n : b->config["linux"]["namespaces"])
      if (n["type"] == "network") n["path"] = ns;
    b->set_args({"sh", "-c", script});
    // The runtime id (and so the cgroup path) is unique per test process.
    std::string rid = id + "-" + std::to_string(::getpid());
    CmdResult r = rt({"run", "--detach", "--bundle", b->dir(), rid});
    EXPECT_EQ(r.status, 0) << r.err;
    runtime_id_[id] = rid;
    containers_.emplace_back(rid, std::move(b));
    netns_of_[id] = ns;
    return ep ? *ep : EndpointInfo{};
  }
  // A command inside a running container (stack-runtime exec).
  CmdResult exec(const std::string& id, const std::vector<std::string>& argv) {
    std::vector<std::string> a = {"exec", runtime_id_[id]};
    a.insert(a.end(), argv.begin(), argv.end());
    return rt(a);
  }
  std::string wget_in(const std::string& id, const std::string& url) {
    CmdResult r = exec(id, {"timeout", "5", "wget", "-q", "-O", "-", url});  // busybox wget -T segfaults here
    return r.status == 0 ? r.out : "ERR(" + std::to_string(r.status) + ")";
  }
  // Waits (bounded) until the container's server answers on its loopback.
  void wait_http(const std::string& id, uint16_t port) {
    std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
    for (int i = 0; i < 100 && wget_in(id, url).rfind("ERR", 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }

  std::unique_ptr<stack::test::TempDir> rt_root_;
  std::vector<std::pair<std::string, std::unique_ptr<Bundle>>> containers_;
  std::map<std::string, std::string> netns_of_;
  std::map<std::string, std::string> runtime_id_;  // test name -> runtime id
};

const char* kHttpd3000 = "httpd -p 3000 -h /www && exec sleep 1000";

TEST_F(NetE2eTest, TwoContainersOnOneNetworkReachEachOther) {
  ASSERT_TRUE(mgr_->create_network({"t-nm-e2e-a", "10.231.20.0/24", "", false, 1500}));
  auto web = start("e2e-web", "t-nm-e2e-a", kHttpd3000, {{"www", "web page\n"}});
  auto cli = start("e2e-cli", "t-nm-e2e-a", "exec sleep 1000");
  wait_http("e2e-web", 3000);
  CmdResult ping = exec("e2e-cli", {"ping", "-c", "1", "-W", "2", web.address});
  EXPECT_EQ(ping.status, 0) << ping.out << ping.err;
  EXPECT_EQ(wget_in("e2e-cli", "http://" + web.address + ":3000/"), "web page\n");
  // What the container sees: its address on eth0, the gateway as default route.
  CmdResult addr = exec("e2e-cli", {"ip", "-o", "-4", "addr", "show", "dev", "eth0"});
  EXPECT_NE(addr.out.find(cli.address + "/24"), std::string::npos) << addr.out;
  CmdResult route = exec("e2e-cli", {"ip", "route"});
  EXPECT_NE(route.out.find("default via 10.231.20.1 dev eth0"), std::string::npos) << route.out;

  remove_containers();
  ASSERT_OK(mgr_->disconnect({{"e2e-web", "t-nm-e2e-a"}, {"e2e-cli", "t-nm-e2e-a"}}));
  ASSERT_OK(mgr_->remove_network("t-nm-e2e-a"));
}

TEST_F(NetE2eTest, PublishedPortsReachableFromLoopbackOwnAddressAndHairpin) {
  ASSERT_TRUE(mgr_->create_network({"t-nm-e2e-p", "10.231.21.0/24", "", false, 1500}));
  auto web = start("e2e-pweb", "t-nm-e2e-p",
                   "httpd -p 3000 -h /www && httpd -p 3001 -h /www1 && httpd -p 3002 -h /www2 && exec sleep 1000",
                   {{"www", "p3000\n"}, {"www1", "p3001\n"}, {"www2", "p3002\n"}});
  start("e2e-pcli", "t-nm-e2e-p", "exec sleep 1000");
  wait_http("e2e-pweb", 3002);
  serve_udp(netns_of_["e2e-pweb"], 3000, "udp-web");

  PortMapping http{"t-nm-e2e-p", "", 80, 0, "tcp", {{web.address, 3000}}};  // "80:3000"
  PortMapping range{"t-nm-e2e-p", "", 9000, 9002, "tcp", {{web.address, 3000}}};
  PortMapping udp{"t-nm-e2e-p", "", 5353, 0, "udp", {{web.address, 3000}}};
  ASSERT_OK(mgr_->publish(http));
  ASSERT_OK(mgr_->publish(range));
  ASSERT_OK(mgr_->publish(udp));

  EXPECT_EQ(http_get("", "127.0.0.1", 80), "p3000\n");
  EXPECT_EQ(http_get("", "10.231.29.1", 80), "p3000\n");
  EXPECT_EQ(wget_in("e2e-pcli", "http://10.231.29.1:80/"), "p3000\n");   // hairpin via the host address
  EXPECT_EQ(wget_in("e2e-pweb", "http://10.231.29.1:80/"), "p3000\n");   // to itself
  for (int p = 0; p <= 2; ++p)
    EXPECT_EQ(http_get("", "10.231.29.1", 9000 + p), "p300" + std::to_string(p) + "\n");
  EXPECT_EQ(udp_ask("", "127.0.0.1", 5353), "udp-web");
  EXPECT_EQ(udp_ask("", "10.231.29.1", 5353), "udp-web");

  ASSERT_OK(mgr_->unpublish(http));
  EXPECT_EQ(http_get("", "10.231.29.1", 80).rfind("ERR", 0), 0u);
  ASSERT_OK(mgr_->unpublish(range));
  ASSERT_OK(mgr_->unpublish(udp));
  remove_containers();
  ASSERT_OK(mgr_->disconnect({{"e2e-pweb", "t-nm-e2e-p"}, {"e2e-pcli", "t-nm-e2e-p"}}));
  ASSERT_OK(mgr_->remove_network("t-nm-e2e-p"));
}

TEST_F(NetE2eTest, ReplicasShareOnePortAndRemovedBackendsStopReceiving) {
  ASSERT_TRUE(mgr_->create_network({"t-nm-e2e-r", "10.231.22.0/24", "", false, 1500}));
  std::vector<EndpointInfo> reps;
  PortMapping tcp{"t-nm-e2e-r", "", 8080, 0, "tcp", {}};
  PortMapping udp{"t-nm-e2e-r", "", 8053, 0, "udp", {}};
  for (int i = 1; i <= 3; ++i) {
    std::string id = "e2e-r" + std::to_string(i);
    reps.push_back(start(id, "t-nm-e2e-r", kHttpd3000, {{"www", "replica" + std::to_string(i) + "\n"}}));
    wait_http(id, 3000);
    serve_udp(netns_of_[id], 3000, "udp" + std::to_string(i));
    tcp.backends.push_back({reps.back().address, 3000});
    udp.backends.push_back({reps.back().address, 3000});
  }
  ASSERT_OK(mgr_->publish(tcp));
  std::map<std::string, int> hits;
  for (int i = 0; i < 30; ++i) hits[http_get("", "10.231.29.1", 8080)]++;
  EXPECT_EQ(hits.size(), 3u);
  for (int i = 1; i <= 3; ++i) EXPECT_GT(hits["replica" + std::to_string(i) + "\n"], 0) << i;
  // Each replica's count of connections is what it answered.
  auto counted = mgr_->published_connections();
  ASSERT_OK(counted);
  for (int i = 1; i <= 3; ++i)
    EXPECT_EQ((*counted)[reps[i - 1].address], static_cast<uint64_t>(hits["replica" + std::to_string(i) + "\n"])) << i;

  PortMapping two = tcp;
  two.backends.pop_back();
  ASSERT_OK(mgr_->update_backends(two));
  std::map<std::string, int> after;
  for (int i = 0; i < 15; ++i) after[http_get("", "127.0.0.1", 8080)]++;
  EXPECT_EQ(after.size(), 2u);
  EXPECT_EQ(after["replica1\n"] + after["replica2\n"], 15);
  // The pool's change kept the counts of the replicas that stayed; the
  // removed one is no longer counted.
  counted = mgr_->published_connections();
  ASSERT_OK(counted);
  for (int i = 1; i <= 2; ++i) {
    const std::string r = "replica" + std::to_string(i) + "\n";
    EXPECT_EQ((*counted)[reps[i - 1].address], static_cast<uint64_t>(hits[r] + after[r])) << i;
  }
  EXPECT_EQ(counted->count(reps[2].address), 0u);

  // UDP: a client keeps its source port, so conntrack pins it to a backend;
  // removing that backend flushes the entry and the next datagram moves on.
  PortMapping only3 = udp;
  only3.backends = {udp.backends[2]};
  ASSERT_OK(mgr_->publish(only3));
  EXPECT_EQ(udp_ask("", "10.231.29.1", 8053, 40053), "udp3");
  PortMapping only1 = udp;
  only1.backends = {udp.backends[0]};
  ASSERT_OK(mgr_->update_backends(only1));
  EXPECT_EQ(udp_ask("", "10.231.29.1", 8053, 40053), "udp1");

  ASSERT_OK(mgr_->unpublish(two));
  ASSERT_OK(mgr_->unpublish(only1));
  counted = mgr_->published_connections();
  ASSERT_OK(counted);
  EXPECT_TRUE(counted->empty()) << "counting rules left after unpublish";
  remove_containers();
  ASSERT_OK(mgr_->disconnect({{"e2e-r1", "t-nm-e2e-r"}, {"e2e-r2", "t-nm-e2e-r"}, {"e2e-r3", "t-nm-e2e-r"}}));
  ASSERT_OK(mgr_->remove_network("t-nm-e2e-r"));
}

}  // namespace
