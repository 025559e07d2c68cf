// LocalNode against the real kernel: a busybox image imported into the
// test's own image store, a NetworkManager in the test's private "host"
// netns (NetTest), and real containers held by stack-shim. Checks what a
// replica gets (network, /etc files, env, user, caps, read-only root), that
// probes, exec and watch work, and that remove() and a failed create leave
// nothing: no dir, overlay mount, netns, veth, lease, runtime state, cgroup
// or shim. Subnets 10.241.1-9.0/24, networks "t-node-*".
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "netplane/netns.h"
#include "orchestrator/daemon/node/local_node.h"
#include "runtime/image/image_service.h"
#include "runtime/image/import.h"
#include "tests/support/net_fixture.h"
#include "tests/support/runtime_fixture.h"

namespace fs = std::filesystem;
using namespace stack::orch;
using stack::test::run;
namespace sched = stack::sched;

namespace {

struct CgroupProbe : stack::test::RuntimeTest {
  using RuntimeTest::cgroup_dirs_of;
};

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// A bound, not a timing assertion: a watch that never fires fails the test
// instead of hanging it.
ExitInfo wait_exit(std::promise<ExitInfo>& p) {
  auto f = p.get_future();
  if (f.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    ADD_FAILURE() << "on_exit did not fire";
    return {-1, false, 0};
  }
  return f.get();
}

class NodeLocalTest : public stack::test::NetTest {
 protected:
  void SetUp() override {
    NetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    work_ = std::make_unique<stack::test::TempDir>("stack-node");
    opts_.root = work_->path() + "/root";
    opts_.runtime_root = work_->path() + "/run";
    opts_.netns_dir = netns_dir_;
    opts_.image_root = work_->path() + "/images";
    make_image();
    auto n = LocalNode::open(opts_, *mgr_);
    ASSERT_TRUE(n) << n.error().message();
    node_ = std::move(*n);
  }
  void TearDown() override {
    if (node_) {
      auto r = node_->remove(ids_);
      EXPECT_TRUE(r) << r.error().message();
      node_.reset();
    }
    for (auto& n : networks_) EXPECT_TRUE(mgr_->remove_network(n));
    NetTest::TearDown();
    work_.reset();
  }

  void make_image() {
    std::string dir = work_->path() + "/rootfs.d";
    for (const char* d : {"bin", "etc", "tmp", "proc", "sys", "dev", "root", "www", "home/app"})
      fs::create_directories(dir + "/" + d);
    fs::permissions(dir + "/tmp", fs::perms::all | fs::perms::sticky_bit);
    fs::copy_file("/bin/busybox", dir + "/bin/busybox");
    std::istringstream applets(run({"/bin/busybox", "--list"}).out);
    for (std::string a; std::getline(applets, a);)
      if (!a.empty() && a != "busybox") fs::create_symlink("busybox", dir + "/bin/" + a);
    std::ofstream(dir + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n";
    std::ofstream(dir + "/etc/group") << "root:x:0:\napp:x:1000:\nstaff:x:50:app\n";
    std::ofstream(dir + "/www/index.html") << "hello from the node\n";
    std::string tar = work_->path() + "/rootfs.tar";
    ASSERT_EQ(run({"tar", "--numeric-owner", "-C", dir, "-cf", tar, "."}).status, 0);
    auto svc = stack::img::ImageService::open(opts_.image_root);
    ASSERT_TRUE(svc) << svc.error().message();
    stack::img::ImportOptions io;
    io.changes = {R"(CMD ["httpd", "-f", "-p", "80", "-h", "/www"])", "ENV IMAGE_VAR=from-image"};
    auto imp = stack::img::import_rootfs(svc->store(), tar, "nodetest:1", io);
    ASSERT_TRUE(imp) << imp.error().message();
  }

  stack::net::NetworkInfo network(const std::string& name, const std::string& subnet) {
    auto n = mgr_->create_network({name, subnet, "", false, 1500});
    EXPECT_TRUE(n) << n.error().message();
    networks_.push_back(name);
    return n ? *n : stack::net::NetworkInfo{};
  }

  ReplicaPlan plan(const std::string& service, const stack::net::NetworkInfo& net) {
    static int seq = 0;
    ReplicaPlan p;
    p.name = "t-" + service + "-1";
    p.id = p.name + "-" + std::to_string(::getpid() % 100000) + std::to_string(++seq);
    p.stack = "t";
    p.service.name = service;
    p.service.image = "nodetest:1";
    p.project_dir = work_->path();
    if (!net.name.empty())
    p.networks.push_back({net, {service}, ""});
  else
    p.service.network_mode = "none";
    ids_.push_back(p.id);
    return p;
  }

  // stdout, stderr and exit code of `cmd` run in the container.
  struct ExecOut {
    std::string out, err;
    int code = -1;
  };
  ExecOut exec(const std::string& id, std::vector<std::string> cmd, const std::string& user = "") {
    ExecRequest req;
    req.cmd = std::move(cmd);
    req.user = user;
    auto s = node_->exec(id, req);
    EXPECT_TRUE(s) << s.error().message();
    if (!s) return {};
    ExecOut o;
    // Both pipes are small here; read stdout then stderr.
    o.out = read_all((*s)->stdout_fd());
    o.err = read_all((*s)->stderr_fd());
    auto code = (*s)->wait();
    EXPECT_TRUE(code);
    o.code = code ? *code : -1;
    return o;
  }

  // Waits (bounded) until the http probe passes: httpd needs a moment to bind.
  sched::ProbeResult http_until_ok(const std::string& id, const sched::HealthSpec& spec, const std::string& ip) {
    sched::ProbeResult r;
    for (int i = 0; i < 100; i++) {
      r = node_->probe(id, spec, ip);
      if (r.exit_code == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return r;
  }

  // Nothing of the replica is left anywhere.
  void expect_gone(const std::string& id, const std::string& net) {
    std::string dir = opts_.root + "/containers/" + id;
    EXPECT_FALSE(fs::exists(dir)) << dir;
    EXPECT_FALSE(stack::test::mounted(dir + "/rootfs"));
    EXPECT_FALSE(stack::net::netns_exists(netns_dir_ + "/" + id));
    EXPECT_FALSE(fs::exists(netns_dir_ + "/" + id));
    EXPECT_FALSE(fs::exists(opts_.runtime_root + "/" + id));
    EXPECT_TRUE(CgroupProbe::cgroup_dirs_of(id).empty()) << "cgroup of " << id;
    if (!net.empty()) EXPECT_FALSE(mgr_->endpoint_address(id, net)) << "lease of " << id;
    EXPECT_EQ(tagged_links().size(), networks_.size()) << "only the bridges may remain";
    auto ids = node_->list_ids();
    EXPECT_EQ(std::count(ids.begin(), ids.end(), id), 0);
  }

  std::unique_ptr<stack::test::TempDir> work_;
  EngineOptions opts_;
  std::unique_ptr<LocalNode> node_;
  std::vector<std::string> ids_, networks_;
};

using sched::HealthSpec;
using sched::ProbeKind;

TEST_F(NodeLocalTest, HttpdReplicaProbesExecsWatchesAndIsRemovedWithoutTrace) {
  auto net = network("t-node-web", "10.241.1.0/24");
  auto p = plan("web", net);
  p.service.environment = {{"GREETING", "hi"}, {"IMAGE_VAR", "from-service"}};
  p.service.working_dir = "/www";
  p.service.hostname = "webhost";
  auto rr = node_->create_and_start(p);
  ASSERT_TRUE(rr) << rr.error().message();
  ASSERT_EQ(rr->addresses.count(net.name), 1u);
  std::string ip = rr->addresses[net.name];
  EXPECT_EQ(ip.rfind("10.241.1.", 0), 0u) << ip;
  EXPECT_GT(rr->pid, 0);
  EXPECT_TRUE(stack::test::process_alive(rr->shim_pid));
  EXPECT_EQ(rr->netns_path, netns_dir_ + "/" + p.id);

  HealthSpec http{.kind = ProbeKind::Http, .port = 80, .path = "/index.html", .timeout = 2000};
  EXPECT_EQ(http_until_ok(p.id, http, ip).exit_code, 0);
  http.path = "/missing";
  auto miss = node_->probe(p.id, http, ip);
  EXPECT_EQ(miss.exit_code, 1);
  EXPECT_NE(miss.output.find("404"), std::string::npos) << miss.output;
  HealthSpec tcp{.kind = ProbeKind::Tcp, .port = 80, .timeout = 2000};
  EXPECT_EQ(node_->probe(p.id, tcp, ip).exit_code, 0);
  tcp.port = 81;
  EXPECT_NE(node_->probe(p.id, tcp, ip).exit_code, 0);

  HealthSpec cmd{.kind = ProbeKind::Exec, .exec = {"/bin/sh", "-c", "test -f /x"}, .timeout = 10000};
  EXPECT_NE(node_->probe(p.id, cmd, "").exit_code, 0);
  EXPECT_EQ(exec(p.id, {"touch", "/x"}).code, 0);
  EXPECT_EQ(node_->probe(p.id, cmd, "").exit_code, 0);
  HealthSpec slow{.kind = ProbeKind::Exec, .exec = {"sleep", "30"}, .timeout = 300};
  auto to = node_->probe(p.id, slow, "");
  EXPECT_EQ(to.exit_code, -1);
  EXPECT_NE(to.output.find("exceeded timeout"), std::string::npos) << to.output;

  auto e = exec(p.id, {"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(e.out, "out\n");
  EXPECT_EQ(e.err, "err\n");
  EXPECT_EQ(e.code, 3);
  auto env = exec(p.id, {"env"}).out;
  EXPECT_NE(env.find("GREETING=hi\n"), std::string::npos) << env;
  EXPECT_NE(env.find("IMAGE_VAR=from-service\n"), std::string::npos) << env;
  EXPECT_EQ(exec(p.id, {"pwd"}).out, "/www\n");
  EXPECT_EQ(exec(p.id, {"hostname"}).out, "webhost\n");
  auto hosts = exec(p.id, {"cat", "/etc/hosts"}).out;
  EXPECT_NE(hosts.find(ip + "\twebhost"), std::string::npos) << hosts;
  EXPECT_EQ(exec(p.id, {"id", "-u"}, "app").out, "1000\n");
  EXPECT_NE(exec(p.id, {"ip", "-o", "addr", "show", "eth0"}).out.find(ip + "/24"), std::string::npos);

  auto top = nlohmann::json::parse(*node_->top(p.id));
  ASSERT_FALSE(top.empty());
  EXPECT_NE(top[0]["cmd"].get<std::string>().find("httpd"), std::string::npos) << top.dump();
  EXPECT_EQ(top[0]["user"], "root");
  auto st = node_->stats(p.id);
  ASSERT_TRUE(st) << st.error().message();
  auto stats = nlohmann::json::parse(*st);
  EXPECT_GT(stats["memory_usage"].get<uint64_t>(), 0u);
  // The working set (usage less reclaimable cache, docker stats' figure) is
  // within the usage; nothing was published, so no connection was counted.
  EXPECT_GT(stats["memory_working_set"].get<uint64_t>(), 0u);
  EXPECT_LE(stats["memory_working_set"].get<uint64_t>(), stats["memory_usage"].get<uint64_t>());
  EXPECT_EQ(stats["published_connections"].get<uint64_t>(), 0u);
  EXPECT_GE(stats["pids"].get<uint64_t>(), 1u);
  EXPECT_GT(stats["net_rx_bytes"].get<uint64_t>(), 0u);  // the probes' traffic

  // httpd is the pid namespace's init: only SIGKILL ends it (as in Docker).
  std::promise<ExitInfo> exited;
  ASSERT_TRUE(node_->watch(p.id, [&](const ExitInfo& i) { exited.set_value(i); }));
  ASSERT_TRUE(node_->signal(p.id, SIGKILL));
  auto info = wait_exit(exited);
  EXPECT_EQ(info.exit_code, 137);
  EXPECT_FALSE(info.oom_killed);
  EXPECT_GT(info.finished_at_ms, 0);
  EXPECT_FALSE(node_->log_files(p.id).empty());

  ASSERT_TRUE(node_->remove({p.id}));
  expect_gone(p.id, net.name);
  ASSERT_TRUE(node_->remove({p.id}));  // idempotent
}

// network_mode none: a netns of its own with only lo.
TEST_F(NodeLocalTest, UserReadOnlyRootAndCapabilitiesApplyWithoutNetwork) {
  auto p = plan("sec", {});
  p.service.command = std::vector<std::string>{"sleep", "1000"};
  p.service.user = "app";
  p.service.read_only = true;
  p.service.cap_drop = {"ALL"};
  p.service.cap_add = {"NET_BIND_SERVICE"};
  auto rr = node_->create_and_start(p);
  ASSERT_TRUE(rr) << rr.error().message();
  auto status = exec(p.id, {"cat", "/proc/1/status"}).out;
  EXPECT_NE(status.find("Uid:\t1000\t1000"), std::string::npos) << status;
  EXPECT_NE(status.find("CapBnd:\t0000000000000400"), std::string::npos) << status;  // bit 10 only
  EXPECT_NE(status.find("Groups:\t50"), std::string::npos) << status;  // from /etc/group
  auto touch = exec(p.id, {"touch", "/home/app/f"});
  EXPECT_NE(touch.code, 0);
  EXPECT_NE(touch.err.find("Read-only file system"), std::string::npos) << touch.err;
  auto links = exec(p.id, {"ip", "-o", "link"}).out;
  EXPECT_NE(links.find("lo:"), std::string::npos) << links;
  EXPECT_EQ(links.find("eth0"), std::string::npos) << links;
  EXPECT_EQ(rr->netns_path, netns_dir_ + "/" + p.id);
  ASSERT_TRUE(node_->remove({p.id}));
  expect_gone(p.id, "");
}

TEST_F(NodeLocalTest, ExecWithATerminalGetsThePtyMasterAndItsSize) {
  auto p = plan("tty", {});
  ASSERT_TRUE(node_->create_and_start(p));
  ExecRequest req;
  req.cmd = {"sh"};
  req.tty = true;
  req.interactive = true;
  auto s = node_->exec(p.id, req);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ((*s)->stderr_fd(), -1);
  (*s)->resize(40, 100);
  std::string input = "stty size; tty; exit 5\n";
  ASSERT_EQ(::write((*s)->stdin_fd(), input.data(), input.size()), static_cast<ssize_t>(input.size()));
  std::string out = read_all((*s)->stdout_fd());  // until the slave closes (EIO)
  EXPECT_NE(out.find("40 100"), std::string::npos) << out;
  EXPECT_NE(out.find("/dev/pts/"), std::string::npos) << out;
  auto code = (*s)->wait();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 5);
  s->reset();
  ASSERT_TRUE(node_->remove({p.id}));
  expect_gone(p.id, "");
}

TEST_F(NodeLocalTest, FailedCreatesLeaveNothing) {
  auto p = plan("bad", {});
  p.service.command = std::vector<std::string>{"/no/such/binary"};
  auto r = node_->create_and_start(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("/no/such/binary"), std::string::npos) << r.error().message();
  expect_gone(p.id, "");

  auto u = plan("baduser", {});
  u.service.user = "nobody-here";
  auto r3 = node_->create_and_start(u);
  ASSERT_FALSE(r3);
  EXPECT_NE(r3.error().message().find("unable to find user nobody-here"), std::string::npos);
  expect_gone(u.id, "");
}

TEST_F(NodeLocalTest, FailedNetworkAttachLeavesNothing) {
  auto net = network("t-node-fail", "10.241.3.0/24");
  auto second = network("t-node-fail2", "10.241.5.0/24");
  auto q = plan("badip", net);
  q.networks.push_back({second, {}, "10.99.0.5"});  // outside the subnet: eth0 is made, eth1 fails
  auto r2 = node_->create_and_start(q);
  ASSERT_FALSE(r2);
  expect_gone(q.id, net.name);
  EXPECT_FALSE(mgr_->endpoint_address(q.id, second.name));
}

TEST_F(NodeLocalTest, ReattachAfterTheNodeObjectIsRecreated) {
  auto p = plan("re", {});
  auto rr = node_->create_and_start(p);
  ASSERT_TRUE(rr) << rr.error().message();
  node_.reset();  // the daemon goes away; the shim keeps the container
  EXPECT_TRUE(stack::test::process_alive(rr->pid));
  auto n = LocalNode::open(opts_, *mgr_);
  ASSERT_TRUE(n) << n.error().message();
  node_ = std::move(*n);
  EXPECT_EQ(node_->list_ids(), std::vector<std::string>{p.id});
  auto back = node_->reattach(p.id);
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(back->has_value());
  EXPECT_TRUE((*back)->running);
  EXPECT_EQ((*back)->pid, rr->pid);
  EXPECT_EQ((*back)->shim_pid, rr->shim_pid);
  EXPECT_EQ((*back)->addresses, rr->addresses);

  std::promise<ExitInfo> exited;
  ASSERT_TRUE(node_->watch(p.id, [&](const ExitInfo& i) { exited.set_value(i); }));
  ASSERT_TRUE(node_->signal(p.id, SIGKILL));
  EXPECT_EQ(wait_exit(exited).exit_code, 137);
  auto after = node_->reattach(p.id);
  ASSERT_TRUE(after && after->has_value());
  EXPECT_FALSE((*after)->running);
  // A watch on an exited container fires at once, from the node's thread.
  std::promise<int> again;
  ASSERT_TRUE(node_->watch(p.id, [&](const ExitInfo& i) { again.set_value(i.exit_code); }));
  auto f = again.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(f.get(), 137);

  ASSERT_TRUE(node_->remove({p.id}));
  expect_gone(p.id, "");
  auto none = node_->reattach(p.id);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

}  // namespace
