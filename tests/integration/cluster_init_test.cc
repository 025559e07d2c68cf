// `stack node init` on a real stackd: the single node becomes the first
// manager of a cluster (its CA, its certificate, its etcd member with mutual
// TLS), its stack moves into etcd and keeps running through stackd's restart
// onto it, `node ls` shows it leading, and the join token carries the CA's
// digest. A bad address or an etcd that cannot start changes nothing.
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>

#include "tests/integration/stack_cli_fixture.h"
#include "tests/support/etcd_fixture.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ClusterInit : public StackdFixture {
 protected:
  void SetUp() override {
    auto why = EtcdFixture::skip_reason({.mutual_tls = true});
    if (!why.empty()) GTEST_SKIP() << why;
    StackdFixture::SetUp();
  }
  std::string cluster_dir() const { return root() + "/cluster"; }
  // The CA's digest as the openssl CLI computes it, independent of our code.
  std::string ca_digest() {
    auto r = run({"sh", "-c", "openssl x509 -in " + cluster_dir() + "/ca.pem -outform DER | sha256sum | cut -d' ' -f1"});
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out.substr(0, 64);
  }
  // etcd processes whose data dir is under this test's root.
  int etcd_processes() {
    auto r = run({"sh", "-c", "pgrep -f -- '[-]-data-dir=" + root() + "/etcd' | wc -l"});
    return std::stoi(r.out.empty() ? "0" : r.out);
  }
  std::vector<std::string> shop_ = {"-f", example("shop.yaml")};
};

TEST_F(ClusterInit, ASingleNodeBecomesAOneNodeClusterAndKeepsItsStack) {
  if (port_in_use(8080)) GTEST_SKIP() << "a host process listens on port 8080";
  ASSERT_EQ(stack({"up", "-d", "-f", example("shop.yaml")}).status, 0);
  ASSERT_TRUE(wait_for([&] { return http_get(8080).find("shop web") != std::string::npos; }));
  auto before = ps(shop_);

  auto init = stack({"node", "init"});
  ASSERT_EQ(init.status, 0) << init.err;
  const std::string token_prefix = "STACK-1-" + ca_digest() + "-";
  EXPECT_NE(init.out.find("stack node join --token " + token_prefix), std::string::npos) << init.out;
  EXPECT_NE(init.out.find("127.0.0.1:2377"), std::string::npos) << init.out;
  EXPECT_TRUE(fs::exists(cluster_dir() + "/cluster.json"));
  EXPECT_EQ(fs::status(cluster_dir() + "/node.key").permissions() & fs::perms::others_all, fs::perms::none);

  auto ls = stack({"node", "ls", "--format", "json"});
  ASSERT_EQ(ls.status, 0) << ls.err;
  auto nodes = json::parse(ls.out);
  ASSERT_EQ(nodes.size(), 1u) << ls.out;
  EXPECT_EQ(nodes[0]["role"], "manager");
  EXPECT_EQ(nodes[0]["leader"], true);
  EXPECT_EQ(nodes[0]["status"], "ready");
  EXPECT_EQ(nodes[0]["self"], true);
  EXPECT_GT(nodes[0]["cpus"].get<int>(), 0);
  auto table = stack({"node", "ls"});
  EXPECT_NE(table.out.find("Leader"), std::string::npos) << table.out;

  // The stack went through the restart: the same containers, still serving,
  // now supervised from etcd.
  auto after = ps(shop_);
  ASSERT_EQ(after.size(), before.size());
  for (auto& r : before)
    EXPECT_EQ(replica(after, r["name"]).value("container_id", ""), r["container_id"]) << r["name"];
  EXPECT_NE(http_get(8080).find("shop web"), std::string::npos);
  orch::EtcdOptions o;
  o.endpoints = {"https://127.0.0.1:2379"};
  o.ca_file = cluster_dir() + "/ca.pem";
  o.cert_file = cluster_dir() + "/node.pem";
  o.key_file = cluster_dir() + "/node.key";
  auto etcd = orch::open_etcd_store(o);
  ASSERT_TRUE(etcd) << etcd.error().message();
  EXPECT_TRUE((*etcd)->get("stacks/shop").value().has_value()) << "the stack's desired state is in etcd";
  auto no_cert = o;
  no_cert.cert_file.clear();
  no_cert.key_file.clear();
  no_cert.dial_timeout = std::chrono::seconds(1);
  EXPECT_FALSE(orch::open_etcd_store(no_cert)) << "the member asks for a client certificate";

  // Tokens again, for root only; init again is refused.
  auto token = stack({"node", "join-token", "-q", "worker"});
  ASSERT_EQ(token.status, 0) << token.err;
  EXPECT_EQ(token.out.rfind(token_prefix, 0), 0u) << token.out;
  EXPECT_NE(init.out.find(token.out.substr(0, token.out.size() - 1)), std::string::npos) << "the same token";
  auto again = stack({"node", "init"});
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.err.find("already in cluster"), std::string::npos) << again.err;

  // Scale still works: the engine runs on the leader.
  ASSERT_EQ(stack({"scale", "-f", example("shop.yaml"), "web=3"}).status, 0);
  EXPECT_TRUE(wait_for([&] {
    int n = 0;
    for (auto& r : ps(shop_)) n += r.value("service", "") == "web" && r.value("state", "") == "running";
    return n == 3;
  }));
  EXPECT_EQ(etcd_processes(), 1);
  stop_daemon(SIGTERM);
  EXPECT_EQ(etcd_processes(), 0) << "stackd stops its etcd member";
  start_daemon(daemon_flags());  // the cluster node comes back by itself
  EXPECT_EQ(stack({"node", "ls", "-q"}).out.size(), 21u) << "one node id and a newline";
  EXPECT_EQ(etcd_processes(), 1);
}

TEST_F(ClusterInit, ABadAddressOrAnEtcdThatCannotStartChangesNothing) {
  auto bad = stack({"node", "init", "--advertise-addr", "10.99.99.99"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("not an address of this host"), std::string::npos) << bad.err;
  auto junk = stack({"node", "init", "--advertise-addr", "nonsense"});
  EXPECT_NE(junk.status, 0);
  EXPECT_NE(junk.err.find("not an IP address"), std::string::npos) << junk.err;

  // Something else holds etcd's client port: the member cannot start.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(2379);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  auto busy = stack({"node", "init"});
  ::close(fd);
  EXPECT_NE(busy.status, 0);
  EXPECT_NE(busy.err.find("etcd member"), std::string::npos) << busy.err;

  EXPECT_FALSE(fs::exists(cluster_dir())) << "no PKI or config left";
  EXPECT_FALSE(fs::exists(root() + "/etcd")) << "no etcd data left";
  EXPECT_EQ(etcd_processes(), 0);
  auto ls = stack({"node", "ls"});
  EXPECT_NE(ls.status, 0);
  EXPECT_NE(ls.err.find("not in a cluster"), std::string::npos) << ls.err;
  EXPECT_EQ(stack({"ls"}).status, 0) << "the single node still serves";
}

}  // namespace
}  // namespace stack::test
