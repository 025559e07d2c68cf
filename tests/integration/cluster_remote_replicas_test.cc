// logs, top, stats and exec (-it, stdin) of replicas on other nodes (three-node harness: node 0
// leads, nodes 1 and 2 are workers): the leader asks each node on its
// cluster endpoint (node_routes.h), with its manager certificate; a worker's
// certificate, or none, reads nothing there.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "orchestrator/daemon/cluster/peer_client.h"
#include "orchestrator/daemon/cluster/remote_exec.h"
#include "tests/integration/cluster_fixture.h"

namespace stack::test {
namespace {

using nlohmann::json;

class ClusterRemoteReplicas : public WorkerCluster {};

TEST_F(ClusterRemoteReplicas, LogsTopStatsAndExecReachReplicasOnEveryNode) {
  const std::string file = write_stack("talk", R"(name: talk
services:
  app:
    image: stack-demo/busybox:1
    deploy:
      replicas: 3
    command: ["sh", "-c", "echo hello from $$(hostname); trap 'exit 0' TERM; while true; do sleep 1; done"]
    configs: [greeting]
configs:
  greeting:
    content: "hi from the leader's CLI"
)");
  json list = up_over(file, 3);
  ASSERT_EQ(running_per_node(list).size(), 3u) << list.dump();
  std::map<std::string, std::string> node_of;  // replica name -> node
  std::string remote_id;                       // a container on node 2
  for (auto& r : list) {
    node_of[r["name"]] = r["node"];
    if (r["node"] == id_of(2)) remote_id = r["container_id"];
  }

  // Every replica's line, those on the workers included.
  std::string out;
  EXPECT_TRUE(wait_for([&] {
    out = h_->stack(0, {"-f", file, "logs"}).out;
    int lines = 0;
    for (size_t at = 0; (at = out.find("hello from", at)) != std::string::npos; ++at) ++lines;
    return lines == 3;
  })) << out;
  for (const auto& [name, node] : node_of)
    EXPECT_NE(out.find(name), std::string::npos) << name << " on " << node << " missing from:\n" << out;

  auto top = h_->stack(0, {"-f", file, "top"});
  ASSERT_EQ(top.status, 0) << top.err;
  for (const auto& [name, node] : node_of) EXPECT_NE(top.out.find(name), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("sleep"), std::string::npos) << top.out;
  auto stats = h_->stack(0, {"-f", file, "stats", "--no-stream"});
  ASSERT_EQ(stats.status, 0) << stats.err;
  for (const auto& [name, node] : node_of) EXPECT_NE(stats.out.find(name), std::string::npos) << stats.out;

  // exec: a replica on each node answers with its own hostname; the exit
  // code comes back too.
  for (auto& r : list) {
    auto got = h_->stack(0, {"-f", file, "exec", "-T", "--index", std::to_string(r["replica"].get<int>()), "app", "hostname"});
    EXPECT_EQ(got.status, 0) << got.err;
    EXPECT_FALSE(got.out.empty()) << r.dump();
    EXPECT_NE(out.find("hello from " + got.out.substr(0, got.out.find('\n'))), std::string::npos)
        << "replica " << r["name"] << " on " << r["node"] << " answered " << got.out;
    // The config's bytes reached the node with the assignment's source.
    auto conf = h_->stack(0, {"-f", file, "exec", "-T", "--index", std::to_string(r["replica"].get<int>()), "app", "cat",
                              "/greeting"});
    EXPECT_EQ(conf.out, "hi from the leader's CLI") << r["name"] << " on " << r["node"] << ": " << conf.err;
  }
  int remote_slot = 0;
  for (auto& r : list)
    if (r["node"] == id_of(2)) remote_slot = r["replica"];
  auto failing = h_->stack(0, {"-f", file, "exec", "-T", "--index", std::to_string(remote_slot), "app", "sh", "-c",
                               "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(failing.status, 3) << failing.err;
  EXPECT_EQ(failing.out, "out\n");
  EXPECT_NE(failing.err.find("err"), std::string::npos) << failing.err;

  // With a terminal (script(1) gives the CLI one), as `stack exec` runs by
  // default: the replica on node 2 gets a pty, reads what we type, and its
  // exit code comes back.
  if (std::filesystem::exists("/usr/bin/script")) {
    std::string cmd;
    for (const auto& a : h_->stack_argv(0)) cmd += a + " ";
    cmd += "-f " + file + " exec --index " + std::to_string(remote_slot) +
           " app sh -c 'tty; read line; echo got-$line; exit 4'";
    auto tty = run({"script", "-qec", cmd, "/dev/null"}, "hello\n");
    EXPECT_EQ(tty.status, 4) << tty.out << tty.err;
    EXPECT_NE(tty.out.find("/dev/pts/"), std::string::npos) << tty.out;
    EXPECT_NE(tty.out.find("got-hello"), std::string::npos) << tty.out;
  }
  // stdin without a terminal.
  auto piped = run([&] {
    auto argv = h_->stack_argv(0);
    for (const std::string& a : std::vector<std::string>{"-f", file, "exec", "-T", "--index",
                                                         std::to_string(remote_slot), "app", "sh", "-c",
                                                         "cat > /tmp/piped; wc -c < /tmp/piped"})
      argv.push_back(a);
    return argv;
  }(), "twelve bytes");
  EXPECT_EQ(piped.status, 0) << piped.err;
  EXPECT_EQ(piped.out, "12\n") << piped.err;

  // Node 2's endpoint answers a manager's certificate, not a worker's.
  ASSERT_FALSE(remote_id.empty()) << list.dump();
  const std::string target = "/v1/node/containers/" + remote_id + "/top";
  auto as_manager = orch::peer_get(orch::PeerCredentials::under(h_->root(0)), h_->address(2), 2377, target);
  EXPECT_TRUE(as_manager) << as_manager.error().message();
  auto as_worker = orch::peer_get(orch::PeerCredentials::under(h_->root(1)), h_->address(2), 2377, target);
  ASSERT_FALSE(as_worker) << "a worker's certificate read another node's replica";
  EXPECT_NE(as_worker.error().message().find("only a manager"), std::string::npos) << as_worker.error().message();
  orch::ExecRequest shell;
  shell.stack = "talk";
  shell.service = "app";
  shell.cmd = {"sh", "-c", "echo escaped"};
  auto exec_as_worker = orch::open_remote_exec(orch::PeerCredentials::under(h_->root(1)), id_of(2), h_->address(2),
                                               2377, remote_id, shell);
  ASSERT_FALSE(exec_as_worker) << "a worker's certificate ran a command in another node's replica";
  EXPECT_NE(exec_as_worker.error().message().find("only a manager"), std::string::npos)
      << exec_as_worker.error().message();
  auto exec_as_manager = orch::open_remote_exec(orch::PeerCredentials::under(h_->root(0)), id_of(2), h_->address(2),
                                                2377, remote_id, shell);
  EXPECT_TRUE(exec_as_manager) << "the manager's own exec is refused, so the check above proves nothing: "
                               << exec_as_manager.error().message();
  auto relay = orch::peer_get(orch::PeerCredentials::under(h_->root(1)), h_->address(0), 2377, "/v1/stacks");
  ASSERT_FALSE(relay) << "a worker's certificate reached the leader's API through its endpoint";
  EXPECT_NE(relay.error().message().find("only a manager"), std::string::npos) << relay.error().message();
  auto no_cert = orch::PeerCredentials::under(h_->root(0));
  no_cert.cert_file.clear();
  auto anonymous = orch::peer_get(no_cert, h_->address(2), 2377, target);
  EXPECT_FALSE(anonymous) << "no certificate, yet an answer";
  auto outside = orch::peer_get(orch::PeerCredentials::under(h_->root(0)), h_->address(2), 2377,
                                "/v1/node/containers/" + remote_id + "/logs?file=..%2F..%2Fcluster%2Fnode.key");
  EXPECT_FALSE(outside) << "a path outside the replica's log files was read";

  down_leaves_nothing(file);
}

}  // namespace
}  // namespace stack::test
