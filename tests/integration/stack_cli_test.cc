// The `stack` CLI against a real stackd (stack_cli_fixture.h): the examples
// come up and serve, replicas are supervised (SIGKILL, failing health check),
// scale and stop do what they say, a killed daemon leaves containers serving
// and the next one adopts them, and down -v leaves nothing behind.
#include <signal.h>

#include <fstream>
#include <set>
#include <thread>
#include <sstream>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

using nlohmann::json;

class StackCli : public StackdFixture {
 protected:
  std::vector<std::string> shop_ = {"-f", example("shop.yaml")};

  void up_shop() {
    auto up = stack({"up", "-d", "-f", example("shop.yaml")});
    ASSERT_EQ(up.status, 0) << up.err;
    ASSERT_TRUE(wait_for([&] { return http_get(8080).find("shop web") != std::string::npos; }))
        << stack({"ps", "-a", "-f", example("shop.yaml")}).out;
  }

  int count(const json& ps, const std::string& service, const std::string& state = "running") {
    int n = 0;
    for (auto& r : ps) n += r.value("service", "") == service && r.value("state", "") == state;
    return n;
  }
};

TEST_F(StackCli, JuiceShopAnswersOnPort80) {
  if (port_in_use(80)) GTEST_SKIP() << "a host process listens on port 80";
  auto up = stack({"up", "-d", example("juice-shop.yaml")});
  ASSERT_EQ(up.status, 0) << up.err;
  ASSERT_TRUE(wait_for([&] { return http_get(80).find("OWASP Juice Shop (stand-in)") != std::string::npos; }));
  std::vector<std::string> sel = {"-f", example("juice-shop.yaml")};
  ASSERT_TRUE(wait_for([&] { return replica(ps(sel), "juice-shop-juice-shop-1").value("health", "") == "healthy"; }));
  auto r = replica(ps(sel), "juice-shop-juice-shop-1");
  EXPECT_EQ(r["state"], "running");
  EXPECT_EQ(r["ports"][0]["published"], 80);
  auto table = stack({"ps", "-f", example("juice-shop.yaml")});
  EXPECT_EQ(table.out.rfind("NAME", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("RESTARTS"), std::string::npos);
  EXPECT_NE(table.out.find(":80->3000/tcp"), std::string::npos) << table.out;
}

TEST_F(StackCli, ShopStartsInDependencyOrderAndServicesReachEachOtherByName) {
  if (port_in_use(8080)) GTEST_SKIP() << "a host process listens on port 8080";
  up_shop();
  json p = ps(shop_);
  auto started = [&](const std::string& n) { return replica(p, n).value("started_at", int64_t{0}); };
  EXPECT_LE(started("shop-db-1"), started("shop-api-1"));
  EXPECT_LE(started("shop-api-1"), started("shop-web-1"));
  EXPECT_LE(started("shop-api-1"), started("shop-worker-1"));
  EXPECT_EQ(count(p, "web"), 2);
  // Both web replicas answer behind the one published port.
  std::set<std::string> pages;
  for (int i = 0; i < 40 && pages.size() < 2; ++i) pages.insert(http_get(8080));
  EXPECT_EQ(pages.size(), 2u);
  // web -> api -> db by service name (the stack's DNS).
  auto chain = http_get(8080, "/cgi-bin/api");
  EXPECT_NE(chain.find("api "), std::string::npos) << chain;
  EXPECT_NE(chain.find("visits="), std::string::npos) << chain;
  auto logs = stack({"-f", example("shop.yaml"), "logs", "--tail", "5", "worker"});
  EXPECT_EQ(logs.status, 0) << logs.err;
  EXPECT_NE(logs.out.find("worker-1"), std::string::npos) << logs.out;
  auto exec = stack({"exec", "-T", "-f", example("shop.yaml"), "api", "sh", "-c", "echo from-exec; exit 3"});
  EXPECT_EQ(exec.status, 3) << exec.err;
  EXPECT_EQ(exec.out, "from-exec\n");
}

TEST_F(StackCli, KilledReplicaIsReplacedAndCounted) {
  if (port_in_use(8080)) GTEST_SKIP() << "a host process listens on port 8080";
  up_shop();
  int pid = replica(ps(shop_), "shop-web-1").value("pid", 0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(wait_for([&] {
    auto r = replica(ps(shop_), "shop-web-1");
    return r.value("state", "") == "running" && r.value("pid", 0) != pid && r.value("restarts", 0) == 1;
  })) << stack({"ps", "-a", "-f", example("shop.yaml")}).out;
}

TEST_F(StackCli, FailingHealthCheckTakesReplicaOutAndRestartsIt) {
  if (port_in_use(8080)) GTEST_SKIP() << "a host process listens on port 8080";
  up_shop();
  ASSERT_TRUE(wait_for([&] { return replica(ps(shop_), "shop-web-1").value("health", "") == "healthy"; }));
  // web-1's page goes away: its HTTP probe fails (404).
  auto rm = stack({"exec", "-T", "-f", example("shop.yaml"), "web", "rm", "/www/index.html"});
  ASSERT_EQ(rm.status, 0) << rm.err;
  // Unhealthy, or already replaced for it: under load the stop and restart
  // can both fall between two 200 ms polls of ps.
  ASSERT_TRUE(wait_for([&] {
    auto r = replica(ps(shop_), "shop-web-1");
    return r.value("health", "") == "unhealthy" || r.value("restarts", 0) >= 1;
  }));
  // Out of the pool: every request is answered by a healthy replica.
  for (int i = 0; i < 10; ++i) EXPECT_NE(http_get(8080).find("shop web"), std::string::npos);
  ASSERT_TRUE(wait_for([&] {
    auto r = replica(ps(shop_), "shop-web-1");
    return r.value("restarts", 0) >= 1 && r.value("health", "") == "healthy";
  })) << stack({"ps", "-a", "-f", example("shop.yaml")}).out;
}

TEST_F(StackCli, ScaleUpAndDown) {
  if (port_in_use(8080)) GTEST_SKIP() << "a host process listens on port 8080";
  up_shop();
  auto up5 = stack({"scale", "-f", example("shop.yaml"), "web=5"});
  ASSERT_EQ(up5.status, 0) << up5.err;
  ASSERT_TRUE(wait_for([&] { return count(ps(shop_), "web") == 5; }));
  auto down1 = stack({"scale", "-f", example("shop.yaml"), "web=1"});
  ASSERT_EQ(down1.status, 0) << down1.err;
  ASSERT_TRUE(wait_for([&] { return ps(shop_).size() == 4u && count(ps(shop_), "web") == 1; }))
      << stack({"ps", "-a", "-f", example("shop.yaml")}).out;
  EXPECT_NE(http_get(8080).find("shop web"), std::string::npos);
}

TEST_F(StackCli, StoppedServiceStaysStopped) {
  if (port_in_use(8080)) GTEST_SKIP() << "a host process listens on port 8080";
  up_shop();
  auto stop = stack({"stop", "-f", example("shop.yaml"), "worker"});
  ASSERT_EQ(stop.status, 0) << stop.err;
  ASSERT_TRUE(wait_for([&] { return count(ps(shop_), "worker") == 0; }));
  // Longer than the restart backoff and several health intervals: still stopped.
  std::this_thread::sleep_for(std::chrono::seconds(6));
  auto w = replica(ps(shop_), "shop-worker-1");
  EXPECT_NE(w.value("state", ""), "running") << w.dump();
  EXPECT_EQ(w.value("restarts", 0), 0);
  auto start = stack({"start", "-f", example("shop.yaml"), "worker"});
  ASSERT_EQ(start.status, 0) << start.err;
  ASSERT_TRUE(wait_for([&] { return count(ps(shop_), "worker") == 1; }));
}

TEST_F(StackCli, KilledDaemonLeavesContainersServingAndTheNextOneAdoptsThem) {
  if (port_in_use(8080)) GTEST_SKIP() << "a host process listens on port 8080";
  up_shop();
  json before = ps(shop_);
  stop_daemon(SIGKILL);
  EXPECT_NE(http_get(8080).find("shop web"), std::string::npos) << "containers serve without stackd";
  start_daemon();
  json after = ps(shop_);
  ASSERT_EQ(after.size(), before.size());
  for (auto& r : before) {
    auto a = replica(after, r["name"]);
    EXPECT_EQ(a.value("container_id", ""), r["container_id"]) << r["name"];
    EXPECT_EQ(a.value("pid", 0), r["pid"]) << r["name"];
  }
  // ...and supervises them: a SIGKILLed replica comes back.
  int pid = replica(after, "shop-api-1").value("pid", 0);
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGKILL);
  ASSERT_TRUE(wait_for([&] {
    auto r = replica(ps(shop_), "shop-api-1");
    return r.value("state", "") == "running" && r.value("pid", 0) != pid;
  }));
}

TEST_F(StackCli, Ipv6PublishedPortsReachTheReplicasAndSurviveADaemonRestart) {
  // Every IPv6 spelling Compose accepts, next to the IPv4 one on the same port.
  const std::string file = write_stack_file("v6", R"yaml(name: v6
services:
  web:
    image: stack-demo/busybox:1
    deploy: {replicas: 2}
    command: [sh, -c, 'echo "v6 web $$(hostname)" > /index.html && exec httpd -f -p 80 -h /']
    ports:
      - "127.0.0.1:18395:80"
      - "::1:18395:80"
      - "[::1]:18396:80"
      - {target: 80, published: 18397, host_ip: "::1"}
)yaml");
  auto clean = snapshot();
  auto up = stack({"up", "-d", "--wait", file});
  ASSERT_EQ(up.status, 0) << up.err;
  auto get6 = [&](int port) {
    auto r = run({"curl", "-sg", "--fail", "-m", "3", "http://[::1]:" + std::to_string(port) + "/"});
    return r.status == 0 ? r.out : "";
  };
  std::set<std::string> pages;
  for (int i = 0; i < 10; ++i) pages.insert(get6(18395));
  EXPECT_EQ(pages.size(), 2u) << "both replicas behind [::1]:18395";
  EXPECT_EQ(pages.count(""), 0u);
  EXPECT_NE(get6(18396).find("v6 web"), std::string::npos);
  EXPECT_NE(get6(18397).find("v6 web"), std::string::npos);
  EXPECT_NE(http_get(18395).find("v6 web"), std::string::npos);  // 127.0.0.1, by DNAT
  auto table = stack({"ps", "-f", file});
  EXPECT_NE(table.out.find("[::1]:18396->80/tcp"), std::string::npos) << table.out;

  // The forwarder lives in stackd: a new daemon serves the ports again.
  stop_daemon(SIGKILL);
  start_daemon();
  EXPECT_TRUE(wait_for([&] { return get6(18396).find("v6 web") != std::string::npos; }));

  auto down = stack({"down", "-f", file});
  ASSERT_EQ(down.status, 0) << down.err;
  EXPECT_EQ(snapshot(), clean);
  EXPECT_EQ(get6(18396), "");
}

TEST_F(StackCli, EgressRateLimitsTheReplicasInterface) {
  const std::string file = write_stack_file("egress",
                                            "name: egress\nservices:\n  up:\n    image: stack-demo/busybox:1\n"
                                            "    command: [sleep, '1000']\n    x-egress-rate: 8mbit\n");
  auto up = stack({"up", "-d", "--wait", file});
  ASSERT_EQ(up.status, 0) << up.err;
  std::string id = replica(ps({"-f", file}), "egress-up-1").value("container_id", "");
  ASSERT_FALSE(id.empty());
  // What `tc` shows inside the replica: a token bucket at 8 Mbit/s on eth0.
  auto tc = run({"nsenter", "--net=" + netns_dir() + "/" + id, "tc", "qdisc", "show", "dev", "eth0"});
  EXPECT_NE(tc.out.find("tbf"), std::string::npos) << tc.out << tc.err;
  EXPECT_NE(tc.out.find("rate 8Mbit"), std::string::npos) << tc.out;
  ASSERT_EQ(stack({"down", "-f", file}).status, 0);
}

// deploy.mode on one host: a global service is one replica; a replicated
// job runs its replicas to completion (ps says complete) and a service
// waiting for it to complete starts; `up` returns once that is so.
TEST_F(StackCli, GlobalServiceAndReplicatedJobOnOneHost) {
  const std::string file = write_stack_file("modes", R"yaml(name: modes
services:
  agent:
    image: stack-demo/busybox:1
    deploy: {mode: global}
    command: [sleep, '1000']
  migrate:
    image: stack-demo/busybox:1
    deploy: {mode: replicated-job, replicas: 2}
    command: [sh, -c, 'echo migrated']
  web:
    image: stack-demo/busybox:1
    depends_on: {migrate: {condition: service_completed_successfully}}
    command: [sleep, '1000']
)yaml");
  auto up = stack({"up", "-d", "--wait", file});
  ASSERT_EQ(up.status, 0) << up.err;
  json list = ps({"-f", file});
  EXPECT_EQ(count(list, "agent"), 1) << list.dump();
  EXPECT_EQ(count(list, "migrate", "complete"), 2) << list.dump();
  EXPECT_EQ(count(list, "web"), 1) << list.dump();
  auto scale = stack({"scale", "-f", file, "agent=3"});
  EXPECT_NE(scale.status, 0);
  EXPECT_NE(scale.err.find("agent is global (one replica per node)"), std::string::npos) << scale.err;
  ASSERT_EQ(stack({"down", "-f", file}).status, 0);
  EXPECT_EQ(ps({"-f", file}).size(), 0u);
}

// `events --since` and `logs --since` show what happened from that time on,
// as Docker's do; a time they cannot read is refused naming the flag.
TEST_F(StackCli, EventsAndLogsSinceShowWhatHappenedFromThenOn) {
  const std::string file = write_stack_file("since", R"yaml(name: since
services:
  app:
    image: stack-demo/busybox:1
    command: [sh, -c, 'echo "hello from $$(hostname)"; exec sleep 1000']
)yaml");
  ASSERT_EQ(stack({"up", "-d", "--wait", file}).status, 0);
  ASSERT_TRUE(wait_for([&] { return stack({"-f", file, "logs"}).out.find("hello from") != std::string::npos; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const auto then = std::chrono::system_clock::now();
  const std::string since =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(then.time_since_epoch()).count() / 1000.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_EQ(stack({"scale", "-f", file, "app=2"}).status, 0);
  ASSERT_TRUE(wait_for([&] { return stack({"-f", file, "logs", "--since", since}).out.find("hello from") != std::string::npos; }));

  // The stream stays open for live events: `timeout` ends it.
  auto events = [&](const std::string& from) {
    return run({"timeout", "3", binary("stack"), "--host", "unix://" + socket(), "-f", file, "events", "--json",
                "--since", from}).out;
  };
  auto starts_of = [](const std::string& out) {
    std::set<std::string> started;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      auto e = json::parse(line, nullptr, false);
      if (!e.is_discarded() && e.value("type", "") == "start") started.insert(e.value("replica", ""));
    }
    return started;
  };
  EXPECT_EQ(starts_of(events(since)), std::set<std::string>{"since-app-2"});
  EXPECT_EQ(starts_of(events("1h")), (std::set<std::string>{"since-app-1", "since-app-2"}));

  auto logs = stack({"-f", file, "logs", "--since", since}).out;
  EXPECT_EQ(logs.find("hello from since-app-1"), std::string::npos) << logs;
  EXPECT_NE(logs.find("hello from since-app-2"), std::string::npos) << logs;
  EXPECT_NE(stack({"-f", file, "logs", "--since", "10m"}).out.find("hello from since-app-1"), std::string::npos);

  for (std::vector<std::string> verb : {std::vector<std::string>{"events"}, {"logs"}}) {
    verb.insert(verb.begin(), {"-f", file});
    verb.insert(verb.end(), {"--since", "yesterday"});
    auto bad = stack(verb);
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.err.find("--since"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("\"yesterday\": not a duration"), std::string::npos) << bad.err;
  }
  ASSERT_EQ(stack({"down", "-f", file}).status, 0);
}

TEST_F(StackCli, DownWithVolumesLeavesNothing) {
  if (port_in_use(8080)) GTEST_SKIP() << "a host process listens on port 8080";
  auto clean = snapshot();
  up_shop();
  EXPECT_NE(snapshot(), clean) << "the stack made links and rules";
  auto down = stack({"down", "-v", "-f", example("shop.yaml")});
  ASSERT_EQ(down.status, 0) << down.err;
  EXPECT_EQ(snapshot(), clean);
  EXPECT_EQ(stack({"ls", "-q"}).out, "");
  std::error_code ec;
  for (auto sub : {"/containers", "/volumes"}) {
    auto it = std::filesystem::directory_iterator(root() + sub, ec);
    EXPECT_TRUE(ec || it == std::filesystem::directory_iterator()) << sub << " not empty";
  }
  auto netns = std::filesystem::directory_iterator(netns_dir(), ec);
  EXPECT_TRUE(ec || netns == std::filesystem::directory_iterator()) << "netns left";
  EXPECT_EQ(http_get(8080), "");
}

}  // namespace
}  // namespace stack::test
