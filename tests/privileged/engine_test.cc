// The Engine driven for real: NetworkManager (bridges, veths, nft), the
// embedded DNS, LocalNode (stack-shim + stack-runtime containers from a
// busybox image imported into a test image root), an in-memory state store.
//
// The DNS listens on port 53 of this test's own gateway addresses (subnets
// 10.236.x.0/24 are this file's): containers' resolv.conf points at the
// gateway on port 53, so another port would leave names unresolvable inside.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "orchestrator/daemon/engine/engine.h"
#include "orchestrator/daemon/engine/stack_spec.h"
#include "runtime/image/image_service.h"
#include "runtime/image/import.h"
#include "tests/support/bundle.h"
#include "tests/support/memory_store.h"
#include "tests/support/private_netns.h"

namespace fs = std::filesystem;
using namespace stack;
using namespace stack::orch;

namespace {

bool wait_for(const std::function<bool()>& pred, int seconds = 60) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

// GET / on 127.0.0.1:port; "" when nothing answers.
std::string http_get(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string req = "GET / HTTP/1.0\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return out;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    ASSERT_TRUE(netns_.ok());
    options_.root = dir_.path() + "/state";
    options_.runtime_root = dir_.path() + "/run";
    options_.netns_dir = dir_.path() + "/netns";
    options_.image_root = dir_.path() + "/images";
    options_.shim_path = test::binary("stack-shim");
    options_.runtime_path = test::binary("stack-runtime");
    options_.dns_port = 53;
    make_image();
    open_engine();
  }
  void TearDown() override {
    if (engine_) {
      for (const auto& s : engine_->stacks()) (void)engine_->down(s.name, true);
      engine_->shutdown();
      engine_.reset();
    }
  }

  void open_engine() {
    auto e = Engine::open(options_, store_);
    ASSERT_TRUE(e) << e.error().message();
    engine_ = std::move(*e);
  }

  void make_image() {
    std::string rootfs = dir_.path() + "/image-rootfs";
    for (const char* d : {"bin", "etc", "proc", "sys", "dev", "tmp", "srv", "root"}) fs::create_directories(rootfs + "/" + d);
    fs::copy_file("/bin/busybox", rootfs + "/bin/busybox");
    test::CmdResult list = test::run({"/bin/busybox", "--list"});
    std::istringstream applets(list.out);
    for (std::string a; std::getline(applets, a);)
      if (!a.empty() && a != "busybox") fs::create_symlink("busybox", rootfs + "/bin/" + a);
    std::ofstream(rootfs + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
    std::ofstream(rootfs + "/etc/group") << "root:x:0:\n";
    std::ofstream(rootfs + "/srv/index.html") << "hello from the stack\n";
    std::string tar = dir_.path() + "/image.tar";
    test::CmdResult t = test::run({"tar", "--numeric-owner", "-C", rootfs, "-cf", tar, "."});
    ASSERT_EQ(t.status, 0) << t.err;
    auto svc = img::ImageService::open(options_.image_root);
    ASSERT_TRUE(svc) << svc.error().message();
    img::ImportOptions o;
    o.changes = {R"(CMD ["/bin/sh"])", "ENV PATH=/bin"};
    auto imp = img::import_rootfs(svc->store(), tar, "engine-test:1", o);
    ASSERT_TRUE(imp) << imp.error().message();
  }

  static compose::Service service(const std::string& name, std::vector<std::string> cmd) {
    compose::Service s;
    s.name = name;
    s.image = "engine-test:1";
    s.command = std::move(cmd);
    s.networks["default"] = {};
    s.stop_grace_period = 2000;
    return s;
  }
  static compose::NativeProbe tcp_probe(uint16_t port) {
    compose::NativeProbe p;
    p.kind = "tcp";
    p.port = port;
    p.interval = 300;
    p.timeout = 1000;
    p.retries = 2;
    p.start_interval = 200;
    return p;
  }
  static compose::PortSpec published(uint16_t host, uint16_t target) {
    compose::PortSpec p;
    p.host_ip = "127.0.0.1";
    p.published = p.published_end = host;
    p.target = p.target_end = target;
    return p;
  }
  // db (tcp-checked, restart always) and web (depends on db healthy,
  // publishes 127.0.0.1:<port> -> 8080).
  // A project with only its default network, on `subnet`.
  static compose::Project bare(const std::string& name, const std::string& subnet) {
    compose::Project p;
    p.name = name;
    p.working_dir = "/";
    p.networks["default"].name = "default";
    p.networks["default"].subnets = {subnet};
    return p;
  }
  static compose::Project shop(const std::string& name, const std::string& subnet, uint16_t port) {
    compose::Project p = bare(name, subnet);
    compose::Service db = service("db", {"httpd", "-f", "-p", "5432", "-h", "/srv"});
    db.native_probe = tcp_probe(5432);
    db.restart = "always";
    compose::Service web = service("web", {"httpd", "-f", "-p", "8080", "-h", "/srv"});
    web.depends_on["db"].condition = "service_healthy";
    web.restart = "always";
    web.ports.push_back(published(port, 8080));
    p.services["db"] = db;
    p.services["web"] = web;
    return p;
  }

  std::vector<ReplicaView> ps(const std::string& stack) {
    auto r = engine_->ps(stack);
    return r ? *r : std::vector<ReplicaView>{};
  }
  std::vector<ReplicaView> of(const std::string& stack, const std::string& service) {
    std::vector<ReplicaView> out;
    for (auto& v : ps(stack))
      if (v.service == service) out.push_back(v);
    return out;
  }
  // For failure messages: one line per replica.
  std::string describe(const std::string& stack) {
    std::string out;
    for (auto& v : ps(stack))
      out += v.name + " " + v.container_id + " " + v.state + " health=" + v.health +
             " restarts=" + std::to_string(v.restarts) + " exit=" + std::to_string(v.exit_code) + "\n";
    return out;
  }
  int running(const std::string& stack, const std::string& service) {
    int n = 0;
    for (auto& v : of(stack, service)) n += v.state == "running";
    return n;
  }

  // Nothing of `stack` left anywhere: store, dirs, netns, links, nft, mounts.
  void expect_no_leftovers(const std::string& stack) {
    EXPECT_TRUE(store_.list("stacks/")->empty());
    EXPECT_TRUE(store_.list("replicas/")->empty());
    std::error_code ec;
    size_t containers = 0;
    for (auto it = fs::directory_iterator(options_.root + "/containers", ec); !ec && it != fs::directory_iterator(); ++it)
      containers++;
    EXPECT_EQ(containers, 0u);
    size_t netns = 0;
    for (auto it = fs::directory_iterator(options_.netns_dir, ec); !ec && it != fs::directory_iterator(); ++it) netns++;
    EXPECT_EQ(netns, 0u);
    std::string links = test::run({"ip", "-d", "-o", "link", "show"}).out;
    EXPECT_EQ(links.find("stack:" + stack + "_"), std::string::npos) << links;
    std::string rules = test::run({"nft", "list", "table", "inet", "stack"}).out;
    EXPECT_EQ(rules.find("stack:" + stack + "_"), std::string::npos) << rules;
    // netns_dir itself stays a private bind mount (netns.h); nothing below it
    // or under the state root may remain mounted.
    std::string mounts = test::read_file("/proc/self/mountinfo");
    EXPECT_EQ(mounts.find(options_.netns_dir + "/"), std::string::npos) << mounts;
    EXPECT_EQ(mounts.find(options_.root + "/"), std::string::npos) << mounts;
    std::string ipam = store_.get("net/ipam").value().value_or("");
    EXPECT_EQ(ipam.find(stack + "_"), std::string::npos) << ipam;
  }

  test::TempDir dir_{"stack-engine"};
  test::MountGuard netns_mount_{dir_.path() + "/netns"};
  // A network "host" of this test's own (private_netns.h): the engine sweeps
  // its netns at restore(), which must not touch tests running beside it.
  test::PrivateNetns netns_;
  test::MemoryStore store_;
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, UpOrdersByHealthResolvesNamesPublishesRestartsScalesAndDownLeavesNothing) {
  std::vector<Event> events;
  std::mutex mu;
  auto sub = engine_->subscribe(0, [&](const Event& e) {
    std::lock_guard lk(mu);
    events.push_back(e);
  });
  auto up = engine_->up(shop("eng1", "10.236.1.0/24", 18231), {});
  ASSERT_TRUE(up) << up.error().message();
  EXPECT_EQ(up->size(), 2u);

  {  // web was created only after db was healthy.
    std::lock_guard lk(mu);
    int db_healthy = -1, web_create = -1;
    for (size_t i = 0; i < events.size(); i++) {
      if (events[i].service == "db" && events[i].type == "health_status" && events[i].attrs["health"] == "healthy" &&
          db_healthy < 0)
        db_healthy = static_cast<int>(i);
      if (events[i].service == "web" && events[i].type == "create" && web_create < 0) web_create = static_cast<int>(i);
    }
    ASSERT_GE(db_healthy, 0);
    ASSERT_GE(web_create, 0);
    EXPECT_LT(db_healthy, web_create);
  }

  // web reaches db by name through the embedded DNS.
  ExecRequest x;
  x.stack = "eng1";
  x.service = "web";
  x.cmd = {"wget", "-q", "-O-", "http://db:5432/"};
  auto session = engine_->exec(x);
  ASSERT_TRUE(session) << session.error().message();
  std::string out = read_all((*session)->stdout_fd());
  auto code = (*session)->wait();
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(out, "hello from the stack\n");

  // The published port answers on 127.0.0.1.
  EXPECT_NE(http_get(18231).find("hello from the stack"), std::string::npos);

  // kill -9 of web's process: restarted, restart count 1.
  auto web = of("eng1", "web");
  ASSERT_EQ(web.size(), 1u);
  ASSERT_GT(web[0].pid, 0);
  std::string first_id = web[0].container_id;
  ASSERT_EQ(kill(web[0].pid, SIGKILL), 0);
  ASSERT_TRUE(wait_for([&] {
    auto w = of("eng1", "web");
    return w.size() == 1 && w[0].state == "running" && w[0].restarts == 1;
  })) << describe("eng1");
  EXPECT_NE(of("eng1", "web")[0].container_id, first_id);
  ASSERT_TRUE(wait_for([&] { return http_get(18231).find("hello") != std::string::npos; }));

  // scale 1 -> 3 -> 1.
  ASSERT_TRUE(engine_->scale("eng1", {{"web", 3}}));
  EXPECT_EQ(running("eng1", "web"), 3);
  ASSERT_TRUE(engine_->scale("eng1", {{"web", 1}}));
  EXPECT_EQ(of("eng1", "web").size(), 1u);
  EXPECT_EQ(of("eng1", "web")[0].replica, 1);

  // logs: httpd -f writes nothing; the db probe connections leave no lines
  // either, so just check the call works and returns.
  std::atomic<bool> cancel{false};
  EXPECT_TRUE(engine_->logs("eng1", {}, [](const LogLine&) { return true; }, cancel));

  sub.reset();
  ASSERT_TRUE(engine_->down("eng1", true));
  EXPECT_TRUE(engine_->stacks().empty());
  expect_no_leftovers("eng1");
}

TEST_F(EngineTest, FailingHealthCheckLeavesThePoolThenRestarts) {
  compose::Project p = bare("eng2", "10.236.2.0/24");
  // Serves for a while, then stops listening but keeps running: unhealthy.
  compose::Service api = service("api", {"sh", "-c", "httpd -p 8080 -h /srv; sleep 2; killall httpd; exec sleep 1000"});
  api.native_probe = tcp_probe(8080);
  api.restart = "always";
  api.ports.push_back(published(18232, 8080));
  p.services["api"] = api;

  std::string pool_when_unhealthy;
  std::mutex mu;
  auto sub = engine_->subscribe(0, [&](const Event& e) {
    std::lock_guard lk(mu);
    if (e.type == "health_status" && e.attrs.at("health") == "unhealthy" && pool_when_unhealthy.empty())
      pool_when_unhealthy = test::run({"nft", "list", "chain", "inet", "stack", "dnat_ports"}).out + "#";
  });
  UpOptions wait;
  wait.wait = true;
  auto up = engine_->up(p, wait);
  ASSERT_TRUE(up) << up.error().message();
  ASSERT_EQ(up->size(), 1u);
  std::string ip = (*up)[0].ip;
  ASSERT_FALSE(ip.empty());
  ASSERT_TRUE(wait_for([&] {
    auto a = of("eng2", "api");
    return a.size() == 1 && a[0].restarts >= 1 && a[0].state == "running";
  }));
  sub.reset();
  std::lock_guard lk(mu);
  // When it turned unhealthy its address was already out of the published pool.
  ASSERT_FALSE(pool_when_unhealthy.empty());
  EXPECT_EQ(pool_when_unhealthy.find(ip), std::string::npos) << pool_when_unhealthy;
}

TEST_F(EngineTest, StopIsNotUndoneByTheRestartPolicy) {
  auto up = engine_->up(shop("eng3", "10.236.3.0/24", 18233), {});
  ASSERT_TRUE(up) << up.error().message();
  ASSERT_TRUE(engine_->stop("eng3", {"web"}));
  auto web = of("eng3", "web");
  ASSERT_EQ(web.size(), 1u);
  EXPECT_EQ(web[0].state, "exited");
  // Several reconcile passes later (db probes run every 300 ms) it is still stopped.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  web = of("eng3", "web");
  EXPECT_EQ(web[0].state, "exited");
  EXPECT_EQ(web[0].restarts, 0);
  EXPECT_EQ(http_get(18233), "");
  ASSERT_TRUE(engine_->start("eng3", {"web"}));
  EXPECT_EQ(running("eng3", "web"), 1);
}

TEST_F(EngineTest, UpWithATakenPortFailsAndCreatesNothing) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(18234);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  auto up = engine_->up(shop("eng4", "10.236.4.0/24", 18234), {});
  close(fd);
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().code, EADDRINUSE) << up.error().message();
  EXPECT_NE(up.error().message().find("18234"), std::string::npos) << up.error().message();
  EXPECT_TRUE(engine_->stacks().empty());
  expect_no_leftovers("eng4");

  // An image that cannot be had (a registry nobody listens on): the same.
  compose::Project p = shop("eng4", "10.236.4.0/24", 18234);
  p.services["web"].image = "127.0.0.1:1/nothing/here:1";
  auto missing = engine_->up(p, {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("services.web.image"), std::string::npos) << missing.error().message();
  EXPECT_TRUE(engine_->stacks().empty());
  expect_no_leftovers("eng4");
}

// build: without image: (compose/build.h): stack does not build, so `up`
// says the image <project>-<service> must be built, pulls nothing and creates
// nothing; once an image of that name is in the store (built elsewhere and
// loaded), the same project runs.
TEST_F(EngineTest, UpOfABuildOnlyServiceNeedsItsImageInTheStore) {
  compose::Project p = bare("eng8", "10.236.8.0/24");
  compose::Service web = service("web", {"httpd", "-f", "-p", "8080", "-h", "/srv"});
  web.image = "eng8-web";
  compose::Build b;
  b.context = "/src/web";
  web.build = b;
  p.services["web"] = web;
  auto up = engine_->up(p, {});
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().context,
            "services.web: image eng8-web must be built first: stack does not build images yet. Build it elsewhere "
            "(docker build -t eng8-web /src/web), then load it: docker save eng8-web | stack image load");
  EXPECT_TRUE(engine_->stacks().empty());
  expect_no_leftovers("eng8");

  auto svc = img::ImageService::open(options_.image_root);
  ASSERT_TRUE(svc) << svc.error().message();
  img::ImportOptions o;
  o.changes = {R"(CMD ["/bin/sh"])", "ENV PATH=/bin"};
  auto imp = img::import_rootfs(svc->store(), dir_.path() + "/image.tar", "eng8-web", o);
  ASSERT_TRUE(imp) << imp.error().message();
  auto again = engine_->up(p, {});
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(wait_for([&] { return running("eng8", "web") == 1; })) << describe("eng8");
  ASSERT_TRUE(engine_->down("eng8", true));
}

TEST_F(EngineTest, RestoreAdoptsRunningReplicasAndKeepsSupervising) {
  auto up = engine_->up(shop("eng5", "10.236.5.0/24", 18235), {});
  ASSERT_TRUE(up) << up.error().message();
  std::map<std::string, std::string> before;
  for (auto& v : ps("eng5")) before[v.name] = v.container_id;
  // The daemon goes away; containers stay with their shims.
  engine_->shutdown();
  engine_.reset();
  EXPECT_NE(http_get(18235).find("hello"), std::string::npos);
  open_engine();
  ASSERT_TRUE(engine_->restore());
  std::map<std::string, std::string> after;
  for (auto& v : ps("eng5")) after[v.name] = v.container_id;
  EXPECT_EQ(before, after);
  EXPECT_EQ(running("eng5", "db"), 1);
  EXPECT_EQ(running("eng5", "web"), 1);
  EXPECT_NE(http_get(18235).find("hello"), std::string::npos);
  // Still supervised: a killed replica comes back.
  auto web = of("eng5", "web");
  ASSERT_GT(web[0].pid, 0);
  ASSERT_EQ(kill(web[0].pid, SIGKILL), 0);
  ASSERT_TRUE(wait_for([&] {
    auto w = of("eng5", "web");
    return w.size() == 1 && w[0].state == "running" && w[0].restarts == 1;
  }));
  ASSERT_TRUE(engine_->down("eng5", true));
  expect_no_leftovers("eng5");
}

TEST_F(EngineTest, LogsTailAndFollowAndOneOffRun) {
  compose::Project p = bare("eng6", "10.236.6.0/24");
  p.services["talk"] = service("talk", {"sh", "-c", "echo oops >&2; sleep 0.5; echo one; echo two; exec sleep 1000"});
  auto up = engine_->up(p, {});
  ASSERT_TRUE(up) << up.error().message();

  auto collect = [&](LogOptions o) {
    std::vector<std::string> lines;
    std::atomic<bool> cancel{false};
    auto r = engine_->logs("eng6", o, [&](const LogLine& l) {
      lines.push_back(l.stream + ":" + l.text + "@" + l.replica);
      return true;
    }, cancel);
    EXPECT_TRUE(r) << r.error().message();
    return lines;
  };
  // The shim reads stdout and stderr separately (so does Docker): only a
  // pause orders lines across the two streams.
  ASSERT_TRUE(wait_for([&] { return collect({}).size() == 3; }));
  EXPECT_EQ(collect({}), (std::vector<std::string>{"stderr:oops@eng6-talk-1", "stdout:one@eng6-talk-1",
                                                   "stdout:two@eng6-talk-1"}));
  LogOptions tail;
  tail.tail = 1;
  EXPECT_EQ(collect(tail), (std::vector<std::string>{"stdout:two@eng6-talk-1"}));
  LogOptions other;
  other.services = {"nope"};
  std::atomic<bool> cancel{false};
  EXPECT_FALSE(engine_->logs("eng6", other, [](const LogLine&) { return true; }, cancel));

  // follow: stops when the sink says so.
  LogOptions follow;
  follow.follow = true;
  int seen = 0;
  EXPECT_TRUE(engine_->logs("eng6", follow, [&](const LogLine&) { return ++seen < 3; }, cancel));
  EXPECT_EQ(seen, 3);

  // A one-off container: its output, its exit code, removed after.
  ExecRequest x;
  x.stack = "eng6";
  x.service = "talk";
  x.cmd = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  auto session = engine_->run(x, true);
  ASSERT_TRUE(session) << session.error().message();
  std::string err;
  std::thread errs([&] { err = read_all((*session)->stderr_fd()); });
  std::string out = read_all((*session)->stdout_fd());
  errs.join();
  auto code = (*session)->wait();
  ASSERT_TRUE(code) << code.error().message();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(err, "err\n");
  session->reset();
  EXPECT_EQ(ps("eng6").size(), 1u);
  ASSERT_TRUE(engine_->down("eng6", true));
  expect_no_leftovers("eng6");
}

TEST_F(EngineTest, RestoreAfterTheShimsAreGoneRecreatesInDependencyOrder) {
  auto up = engine_->up(shop("eng7", "10.236.7.0/24", 18237), {});
  ASSERT_TRUE(up) << up.error().message();
  std::set<std::string> before;
  for (auto& v : ps("eng7")) before.insert(v.container_id);
  engine_->shutdown();
  engine_.reset();
  // A host reboot, as far as the replicas go: every shim and container
  // process is gone and the runtime state (a tmpfs) is empty.
  auto records = store_.list("replicas/eng7/");
  ASSERT_TRUE(records);
  for (auto& [key, value] : *records) {
    auto j = nlohmann::json::parse(value);
    for (const char* k : {"shim_pid", "pid"})
      if (j.value(k, 0) > 0) kill(j[k].get<int>(), SIGKILL);
    std::string id = j["container_id"];
    ASSERT_TRUE(wait_for([&] { return !test::process_alive(j.value("pid", 0)); }));
    fs::remove_all(options_.runtime_root + "/" + id);
    // A reboot empties cgroupfs too.
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it.depth() > 2) it.disable_recursion_pending();
      if (it->is_directory() && it->path().filename() == id) {
        ::rmdir(it->path().c_str());
        it.disable_recursion_pending();
      }
    }
  }
  open_engine();
  std::vector<Event> events;
  std::mutex mu;
  auto sub = engine_->subscribe(UINT64_MAX - 1, [&](const Event& e) {
    std::lock_guard lk(mu);
    events.push_back(e);
  });
  ASSERT_TRUE(engine_->restore());
  ASSERT_TRUE(wait_for([&] { return running("eng7", "db") == 1 && running("eng7", "web") == 1; }));
  for (auto& v : ps("eng7")) EXPECT_FALSE(before.count(v.container_id)) << v.name << " was not recreated";
  {
    std::lock_guard lk(mu);
    int db_healthy = -1, web_create = -1;
    for (size_t i = 0; i < events.size(); i++) {
      if (events[i].service == "db" && events[i].type == "health_status" && db_healthy < 0) db_healthy = int(i);
      if (events[i].service == "web" && events[i].type == "create" && web_create < 0) web_create = int(i);
    }
    EXPECT_GE(db_healthy, 0);
    EXPECT_LT(db_healthy, web_create);
  }
  bool ok = wait_for([&] { return http_get(18237).find("hello") != std::string::npos; });
  if (!ok) {
    std::cerr << "DEBUG nft:\n" << test::run({"nft", "list", "table", "inet", "stack"}).out;
    for (auto& v : ps("eng7")) std::cerr << "DEBUG " << v.name << " " << v.state << " " << v.health << " " << v.ip << "\n";
    std::cerr << store_.get("net/networks").value().value_or("");
  }
  ASSERT_TRUE(ok);
  sub.reset();
  ASSERT_TRUE(engine_->down("eng7", true));
  expect_no_leftovers("eng7");
}

// Replicas a stackd before config hash v2 and tasks made carry the old hash
// (of the whole serialized service) under one key per slot: the first
// restore after the upgrade keeps them, stores the v2 hash and moves each
// record to its task key, instead of replacing every one.
TEST_F(EngineTest, RestoreAfterAnUpgradeKeepsReplicasOfAnUnchangedConfig) {
  compose::Project p = shop("eng9", "10.236.9.0/24", 18239);
  auto up = engine_->up(p, {});
  ASSERT_TRUE(up) << up.error().message();
  std::map<std::string, std::string> before;
  for (auto& v : ps("eng9")) before[v.name] = v.container_id;
  engine_->shutdown();
  engine_.reset();
  auto records = store_.list("replicas/eng9/");
  ASSERT_TRUE(records);
  for (auto& [key, value] : *records) {  // as the older stackd wrote them: one record per slot
    auto j = nlohmann::json::parse(value, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << key << ": " << value;
    j["config_hash"] = legacy_config_hash(p.services.at(j["service"].get<std::string>()));
    j.erase("incarnation");
    ASSERT_TRUE(store_.remove(key));
    ASSERT_TRUE(store_.put(key.substr(0, key.rfind('/')), j.dump()));
  }
  open_engine();
  ASSERT_TRUE(engine_->restore());
  std::map<std::string, std::string> after;
  for (auto& v : ps("eng9")) after[v.name] = v.container_id;
  EXPECT_EQ(before, after) << describe("eng9");
  auto upgraded = store_.list("replicas/eng9/");
  ASSERT_TRUE(upgraded);
  EXPECT_EQ(upgraded->size(), records->size());
  for (auto& [key, value] : *upgraded) {
    EXPECT_EQ(nlohmann::json::parse(value, nullptr, false).value("config_hash", "").rfind("v2:", 0), 0u) << key << ": " << value;
    EXPECT_EQ(std::count(key.begin(), key.end(), '/'), 4) << key << ": not a task key";
  }
  EXPECT_TRUE(wait_for([&] { return http_get(18239).find("hello") != std::string::npos; })) << describe("eng9");
  ASSERT_TRUE(engine_->down("eng9", true));
  expect_no_leftovers("eng9");
}

}  // namespace
