#include "tests/support/net_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <thread>

#include "netplane/netns.h"

namespace fs = std::filesystem;

namespace stack::test {

void NetTest::SetUp() {
  if (!privileged_skip_reason().empty()) GTEST_SKIP() << privileged_skip_reason();
  orig_ns_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(orig_ns_) << "open own netns";
  ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET): " << std::strerror(errno);
  in_private_ns_ = true;
  ASSERT_EQ(run({"ip", "link", "set", "lo", "up"}).status, 0);
  dir_ = std::make_unique<TempDir>("stack-nm");
  state_dir_ = dir_->path() + "/state";
  netns_dir_ = dir_->path() + "/netns";
  mgr_ = open_manager();
  ASSERT_TRUE(mgr_);
}

std::unique_ptr<net::NetworkManager> NetTest::open_manager() {
  auto m = net::NetworkManager::open(state_dir_);
  EXPECT_TRUE(m) << (m ? "" : m.error().message());
  return m ? std::move(*m) : nullptr;
}

std::vector<std::string> NetTest::tagged_links() {
  // Tagged (ifalias "stack:...") links, and untagged ones with our name shapes.
  std::vector<std::string> out;
  std::istringstream in(run({"ip", "-o", "link"}).out);
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    std::string name = line.substr(colon + 2, line.find_first_of(":@", colon + 2) - colon - 2);
    bool tagged = line.find("alias stack:") != std::string::npos;
    if (tagged || name.rfind("stk-", 0) == 0 || (name.size() == 14 && name.rfind("sk", 0) == 0))
      out.push_back(name);
  }
  return out;
}

std::vector<std::string> NetTest::tagged_rules() {
  std::vector<std::string> out;
  std::istringstream in(run({"nft", "list", "table", "inet", "stack"}).out);
  for (std::string line; std::getline(in, line);) {
    auto c = line.find("comment \"stack:");
    if (c != std::string::npos) out.push_back(line.substr(c));
    if (line.find("elements =") != std::string::npos) out.push_back(line);
  }
  return out;
}

namespace {

// Mount points in this mount namespace whose path starts with `prefix`.
std::vector<std::string> mounts_under(const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(read_file("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, mnt;
    f >> id >> parent >> dev >> root >> mnt;
    if (mnt.rfind(prefix, 0) == 0) out.push_back(mnt);
  }
  return out;
}

}  // namespace

void NetTest::TearDown() {
  if (!in_private_ns_) return;
  for (pid_t p : servers_) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
  mgr_.reset();
  EXPECT_EQ(tagged_links(), std::vector<std::string>{}) << "links leaked";
  EXPECT_EQ(tagged_rules(), std::vector<std::string>{}) << "nft rules leaked";
  // The test plays the engine, which owns the netns: delete them, then check
  // that delete_netns left no mount behind.
  for (const auto& ns : netns_) {
    auto r = net::delete_netns(ns);
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    EXPECT_FALSE(mounted(ns)) << "netns mount left: " << ns;
    EXPECT_FALSE(net::netns_exists(ns));
  }
  // Any other netns still mounted under the dir (one made by code under
  // test, e.g. the engine) is a leak: report it, then detach it.
  for (const auto& ns : mounts_under(netns_dir_ + "/")) {
    ADD_FAILURE() << "netns mount leaked: " << ns;
    (void)net::delete_netns(ns);
  }
  { MountGuard self_bind{netns_dir_}; }  // the private self-bind of the netns dir
  EXPECT_FALSE(mounted(netns_dir_));
  ::setns(orig_ns_.get(), CLONE_NEWNET);
  in_private_ns_ = false;
  dir_.reset();
}

std::string NetTest::make_ns(const std::string& name) {
  std::string p = netns_dir_ + "/" + name;
  auto r = net::create_netns(p);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  netns_.push_back(p);
  return p;
}

CmdResult NetTest::in_ns(const std::string& ns_path, const std::vector<std::string>& argv) {
  std::vector<std::string> a;
  if (!ns_path.empty()) a = {"nsenter", "--net=" + ns_path};
  a.insert(a.end(), argv.begin(), argv.end());
  return run(a);
}

pid_t NetTest::spawn_in_ns(const std::string& ns_path, const std::vector<std::string>& argv) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) _exit(126);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    std::vector<char*> args;
    for (auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  servers_.push_back(pid);
  return pid;
}

void NetTest::serve_http(const std::string& ns_path, uint16_t port, const std::string& body) {
  std::string www = dir_->path() + "/www-" + std::to_string(servers_.size());
  fs::create_directories(www);
  std::ofstream(www + "/index.html") << body;
  spawn_in_ns(ns_path, {"busybox", "httpd", "-f", "-p", std::to_string(port), "-h", www});
  // Ready once it answers on its own loopback (bounded wait, not asserted on timing).
  for (int i = 0; i < 100 && http_get(ns_path, "127.0.0.1", port) != body; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

namespace {

sockaddr_in sin_of(const std::string& ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  return sa;
}

// An IPv4 or IPv6 ("::1") socket address.
std::pair<sockaddr_storage, socklen_t> addr_of(const std::string& ip, uint16_t port) {
  sockaddr_storage ss{};
  if (ip.find(':') == std::string::npos) {
    auto sa = sin_of(ip, port);
    std::memcpy(&ss, &sa, sizeof sa);
    return {ss, sizeof sa};
  }
  sockaddr_in6 sa6{};
  sa6.sin6_family = AF_INET6;
  sa6.sin6_port = htons(port);
  ::inet_pton(AF_INET6, ip.c_str(), &sa6.sin6_addr);
  std::memcpy(&ss, &sa6, sizeof sa6);
  return {ss, sizeof sa6};
}

// Runs f on a thread that joined netns `ns_path` ("" = this thread's netns).
void in_netns_thread(const std::string& ns_path, const std::function<void()>& f) {
  std::thread t([&] {
    if (!ns_path.empty()) {
      stack::UniqueFd fd(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd || ::setns(fd.get(), CLONE_NEWNET) != 0) return;
    }
    f();
  });
  t.join();
}

// HTTP/1.0 GET over a plain socket (busybox wget cannot do IPv6 here): the
// body, or "ERR(errno)" (ERR(0) for a connection closed without a reply).
std::string socket_http_get(const std::string& ns_path, const std::string& ip, uint16_t port) {
  std::string out = "ERR(thread)";
  in_netns_thread(ns_path, [&] {
    auto [sa, len] = addr_of(ip, port);
    stack::UniqueFd s(::socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{5, 0};  // bounds the wait only; never asserted on
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) {
      out = "ERR(" + std::to_string(errno) + ")";
      return;
    }
    std::string req = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
    if (::send(s.get(), req.data(), req.size(), MSG_NOSIGNAL) < 0) {
      out = "ERR(" + std::to_string(errno) + ")";
      return;
    }
    std::string resp;
    char buf[65536];
    for (ssize_t n; (n = ::recv(s.get(), buf, sizeof buf, 0)) != 0;) {
      if (n < 0) {
        out = "ERR(" + std::to_string(errno) + ")";
        return;
      }
      resp.append(buf, static_cast<size_t>(n));
    }
    auto body = resp.find("\r\n\r\n");
    out = body == std::string::npos ? "ERR(0)" : resp.substr(body + 4);
  });
  return out;
}

}  // namespace

void NetTest::serve_udp(const std::string& ns_path, uint16_t port, const std::string& body) {
  // busybox here has no UDP nc/udpsvd, so the server is a forked child that
  // joins the netns and answers each datagram with `body`.
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) _exit(126);
    int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    auto sa = sin_of("0.0.0.0", port);
    if (::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) _exit(125);
    (void)!::write(ready[1], "x", 1);
    for (;;) {
      char buf[256];
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      if (::recvfrom(s, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len) < 0) continue;
      ::sendto(s, body.data(), body.size(), 0, reinterpret_cast<sockaddr*>(&peer), len);
    }
  }
  ::close(ready[1]);
  char c;
  EXPECT_EQ(::read(ready[0], &c, 1), 1) << "udp server did not start";
  ::close(ready[0]);
  servers_.push_back(pid);
}

std::string NetTest::http_get(const std::string& ns_path, const std::string& ip, uint16_t port) {
  if (ip.find(':') != std::string::npos) return socket_http_get(ns_path, ip, port);
  auto r = in_ns(ns_path, {"timeout", "5", "busybox", "wget", "-q", "-O", "-",
                           "http://" + ip + ":" + std::to_string(port) + "/"});
  return r.status == 0 ? r.out : "ERR(" + std::to_string(r.status) + ")";
}

std::string NetTest::udp_ask(const std::string& ns_path, const std::string& ip, uint16_t port, uint16_t src_port) {
  std::string out = "ERR(thread)";
  in_netns_thread(ns_path, [&] {
    auto [sa, len] = addr_of(ip, port);
    stack::UniqueFd s(::socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    timeval tv{2, 0};  // bounds the wait only; never asserted on
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (src_port) {
      auto [local, llen] = addr_of(sa.ss_family == AF_INET6 ? "::" : "0.0.0.0", src_port);
      ::bind(s.get(), reinterpret_cast<sockaddr*>(&local), llen);
    }
    ::sendto(s.get(), "?", 1, 0, reinterpret_cast<sockaddr*>(&sa), len);
    char buf[256];
    ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    out = n < 0 ? "ERR(" + std::to_string(errno) + ")" : std::string(buf, static_cast<size_t>(n));
  });
  return out;
}

bool NetTest::ping(const std::string& ns_path, const std::string& ip) {
  return in_ns(ns_path, {"busybox", "ping", "-c", "1", "-W", "2", ip}).status == 0;
}

}  // namespace stack::test
