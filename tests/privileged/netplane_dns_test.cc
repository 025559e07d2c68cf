// The embedded resolver for real: a DnsServer on loopback addresses of its
// own (127.203.<test>.x, port 15353; 127/8 is all local, so nothing needs
// creating and parallel tests never share an address), queried over UDP and
// TCP by a tiny client below, forwarding to a fake upstream this test runs.
// Needs no root, but lives here because it opens real sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "netplane/dns_message.h"
#include "netplane/dns_server.h"
#include "base/fd.h"
#include "tests/support/bundle.h"

namespace {

namespace dns = stack::net::dns;
using stack::net::DnsOptions;
using stack::net::DnsRecord;
using stack::net::DnsServer;
using stack::UniqueFd;
using Bytes = std::vector<uint8_t>;

constexpr uint16_t kPort = 15353;
constexpr int kClientTimeoutMs = 5000;  // a safety net against hangs, not an assertion

sockaddr_in addr_of(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, kClientTimeoutMs) == 1;
}

std::optional<Bytes> ask_udp(const std::string& ip, const Bytes& query) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto to = addr_of(ip, kPort);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return std::nullopt;
  if (::send(fd.get(), query.data(), query.size(), 0) != static_cast<ssize_t>(query.size())) return std::nullopt;
  if (!readable(fd.get())) return std::nullopt;
  Bytes buf(65535);
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<size_t>(n));
  return buf;
}

bool read_exact(int fd, uint8_t* p, size_t n) {
  while (n) {
    if (!readable(fd)) return false;
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

std::optional<Bytes> ask_tcp(const std::string& ip, const Bytes& query) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto to = addr_of(ip, kPort);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return std::nullopt;
  Bytes framed{static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size() & 0xFF)};
  framed.insert(framed.end(), query.begin(), query.end());
  if (::write(fd.get(), framed.data(), framed.size()) != static_cast<ssize_t>(framed.size())) return std::nullopt;
  uint8_t len[2];
  if (!read_exact(fd.get(), len, 2)) return std::nullopt;
  Bytes out(size_t{len[0]} << 8 | len[1]);
  if (!read_exact(fd.get(), out.data(), out.size())) return std::nullopt;
  return out;
}

dns::Response resolve(const std::string& server, const std::string& name, uint16_t type = dns::kTypeA,
                      bool tcp = false, uint16_t id = 0x5151) {
  auto q = dns::build_query(name, type, id);
  auto raw = tcp ? ask_tcp(server, q) : ask_udp(server, q);
  EXPECT_TRUE(raw) << "no answer from " << server << " for " << name;
  dns::Response none;
  none.rcode = dns::Rcode::Refused;  // fails every rcode check below
  if (!raw) return none;
  auto r = dns::parse_response(*raw);
  EXPECT_TRUE(r) << r.error().message();
  if (!r) return none;
  EXPECT_EQ(r->id, id);
  return *r;
}

// A fake upstream on ip:kPort: answers every A query with 192.0.2.77, or,
// when `silent`, reads and never answers.
class FakeUpstream {
 public:
  FakeUpstream(const std::string& ip, bool silent, uint16_t port = kPort)
      : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    auto at = addr_of(ip, port);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0) << ip;
    thread_ = std::thread([this, silent] { serve(silent); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
  }
  int queries() const { return queries_; }

 private:
  void serve(bool silent) {
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      Bytes buf(4096);
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd_.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      ++queries_;
      buf.resize(static_cast<size_t>(n));
      auto q = dns::parse_query(buf);
      if (silent || !q) continue;
      in_addr a{};
      inet_pton(AF_INET, "192.0.2.77", &a);
      std::vector<uint32_t> addrs{a.s_addr};
      auto out = dns::build_response(*q, dns::Rcode::NoError, addrs, 512);
      ::sendto(fd_.get(), out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }
  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

// An io_context on two threads (the engine's shape) and address helpers for
// test number `n`: net(1) = 127.203.n.1 and so on.
class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  void TearDown() override {
    server_.reset();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  static std::string addr(int test, int host) {
    return "127.203." + std::to_string(test) + "." + std::to_string(host);
  }
  DnsServer& start(std::vector<std::string> upstreams, int timeout_ms = 2000) {
    DnsOptions o;
    o.port = kPort;
    o.upstreams = std::move(upstreams);
    o.upstream_timeout_ms = timeout_ms;
    auto s = DnsServer::create(io_, o);
    EXPECT_TRUE(s) << s.error().message();
    server_ = std::move(*s);
    return *server_;
  }
  static void add(DnsServer& s, const std::string& net, const std::string& gw) {
    auto r = s.add_network(net, gw);
    ASSERT_TRUE(r) << r.error().message();
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{io_.get_executor()};
  std::vector<std::thread> threads_;
  std::unique_ptr<DnsServer> server_;
};

DnsRecord rec(const std::string& key, const std::string& net, const std::string& ip,
              std::vector<std::string> names = {"web", "web.mystack"}) {
  return DnsRecord{key, net, std::move(names), ip};
}

TEST_F(DnsServerTest, AnswersARecordsOverUdpAndTcp) {
  auto& s = start({""});  // no upstream
  add(s, "alpha", addr(1, 1));
  s.upsert(rec("c1/alpha", "alpha", "10.203.1.2", {"web", "web.mystack", "mystack-web-1"}));
  for (bool tcp : {false, true}) {
    for (const char* name : {"web", "WEB.MyStack.", "mystack-web-1"}) {
      auto r = resolve(addr(1, 1), name, dns::kTypeA, tcp);
      EXPECT_EQ(r.rcode, dns::Rcode::NoError) << name;
      EXPECT_TRUE(r.authoritative);
      EXPECT_EQ(r.ipv4, std::vector<std::string>{"10.203.1.2"}) << name << (tcp ? " tcp" : " udp");
    }
  }
  auto aaaa = resolve(addr(1, 1), "web", dns::kTypeAAAA);
  EXPECT_EQ(aaaa.rcode, dns::Rcode::NoError);  // the name exists: NODATA
  EXPECT_EQ(aaaa.answers, 0);
  EXPECT_EQ(resolve(addr(1, 1), "nope.mystack").rcode, dns::Rcode::NxDomain);
  EXPECT_EQ(resolve(addr(1, 1), "nope", dns::kTypeA, true).rcode, dns::Rcode::NxDomain);
  // No upstream at all: a foreign name cannot be answered.
  EXPECT_EQ(resolve(addr(1, 1), "example.org").rcode, dns::Rcode::ServFail);
}

TEST_F(DnsServerTest, RoundRobinsAcrossThreeReplicas) {
  auto& s = start({""});
  add(s, "alpha", addr(2, 1));
  for (int i = 2; i <= 4; ++i) s.upsert(rec("c" + std::to_string(i) + "/alpha", "alpha", "10.203.2." + std::to_string(i)));
  std::set<std::string> firsts;
  for (int i = 0; i < 3; ++i) {
    auto r = resolve(addr(2, 1), "web.mystack");
    ASSERT_EQ(r.ipv4.size(), 3u);
    EXPECT_EQ(std::set<std::string>(r.ipv4.begin(), r.ipv4.end()),
              (std::set<std::string>{"10.203.2.2", "10.203.2.3", "10.203.2.4"}));
    firsts.insert(r.ipv4[0]);
  }
  EXPECT_EQ(firsts.size(), 3u);  // each replica came first once
}

TEST_F(DnsServerTest, UpsertAndRemoveTakeEffectForTheNextQuery) {
  auto& s = start({""});
  add(s, "alpha", addr(3, 1));
  EXPECT_EQ(resolve(addr(3, 1), "web").rcode, dns::Rcode::NxDomain);
  s.upsert(rec("c1/alpha", "alpha", "10.203.3.2"));
  EXPECT_EQ(resolve(addr(3, 1), "web").ipv4, std::vector<std::string>{"10.203.3.2"});
  s.upsert(rec("c1/alpha", "alpha", "10.203.3.7"));  // same key: replaced
  EXPECT_EQ(resolve(addr(3, 1), "web").ipv4, std::vector<std::string>{"10.203.3.7"});
  ASSERT_EQ(s.records("alpha").size(), 1u);
  s.remove("c1/alpha");
  EXPECT_EQ(resolve(addr(3, 1), "web").rcode, dns::Rcode::NxDomain);
  EXPECT_TRUE(s.records("alpha").empty());
}

TEST_F(DnsServerTest, EachNetworkSeesOnlyItsOwnNames) {
  auto& s = start({""});
  add(s, "alpha", addr(4, 1));
  add(s, "beta", addr(4, 2));
  s.upsert(rec("a/alpha", "alpha", "10.203.4.10", {"web", "web.one"}));
  s.upsert(rec("b/beta", "beta", "10.203.5.10", {"db", "db.two"}));
  EXPECT_EQ(resolve(addr(4, 1), "web").ipv4, std::vector<std::string>{"10.203.4.10"});
  EXPECT_EQ(resolve(addr(4, 2), "db").ipv4, std::vector<std::string>{"10.203.5.10"});
  EXPECT_EQ(resolve(addr(4, 1), "db").rcode, dns::Rcode::NxDomain);
  EXPECT_EQ(resolve(addr(4, 2), "web", dns::kTypeA, true).rcode, dns::Rcode::NxDomain);
  // Removing a network closes its listener and drops its records only.
  s.remove_network("beta");
  EXPECT_FALSE(ask_udp(addr(4, 2), dns::build_query("db", dns::kTypeA, 1)));  // port unreachable
  EXPECT_TRUE(s.records("beta").empty());
  EXPECT_FALSE(ask_tcp(addr(4, 2), dns::build_query("db", dns::kTypeA, 1)));  // refused: nothing listens
  EXPECT_EQ(resolve(addr(4, 1), "web").ipv4, std::vector<std::string>{"10.203.4.10"});
}

TEST_F(DnsServerTest, ForwardsOtherNamesAndRelaysTheAnswerWithTheClientsId) {
  FakeUpstream upstream(addr(5, 9), false);
  auto& s = start({addr(5, 9) + ":" + std::to_string(kPort)});
  add(s, "alpha", addr(5, 1));
  s.upsert(rec("c1/alpha", "alpha", "10.203.5.2"));
  for (bool tcp : {false, true}) {
    auto r = resolve(addr(5, 1), "www.example.org", dns::kTypeA, tcp, tcp ? 0x7777 : 0x1234);
    EXPECT_EQ(r.rcode, dns::Rcode::NoError);
    EXPECT_EQ(r.question, "www.example.org");
    EXPECT_EQ(r.ipv4, std::vector<std::string>{"192.0.2.77"});
  }
  EXPECT_EQ(upstream.queries(), 2);
  // Our names never reach the upstream.
  EXPECT_EQ(resolve(addr(5, 1), "web").ipv4, std::vector<std::string>{"10.203.5.2"});
  EXPECT_EQ(resolve(addr(5, 1), "nope.mystack").rcode, dns::Rcode::NxDomain);
  EXPECT_EQ(upstream.queries(), 2);
}

TEST_F(DnsServerTest, SilentUpstreamGivesServfailAndTheNextUpstreamIsTried) {
  FakeUpstream silent(addr(6, 10), true);
  FakeUpstream good(addr(6, 9), false);
  auto& s = start({addr(6, 10) + ":" + std::to_string(kPort)}, 200);
  add(s, "alpha", addr(6, 1));
  auto r = resolve(addr(6, 1), "example.org");
  EXPECT_EQ(r.rcode, dns::Rcode::ServFail);
  EXPECT_EQ(r.id, 0x5151);
  EXPECT_EQ(silent.queries(), 1);
  server_.reset();
  auto& s2 = start({addr(6, 10) + ":" + std::to_string(kPort), addr(6, 9) + ":" + std::to_string(kPort)}, 200);
  add(s2, "alpha", addr(6, 1));
  EXPECT_EQ(resolve(addr(6, 1), "example.org").ipv4, std::vector<std::string>{"192.0.2.77"});
  EXPECT_EQ(silent.queries(), 2);
  EXPECT_EQ(good.queries(), 1);
}

TEST_F(DnsServerTest, TruncatesBigUdpAnswersAndTcpCarriesThemAll) {
  auto& s = start({""});
  add(s, "alpha", addr(7, 1));
  for (int i = 1; i <= 40; ++i) s.upsert(rec("c" + std::to_string(i), "alpha", "10.203.7." + std::to_string(i)));
  auto udp = resolve(addr(7, 1), "web");
  EXPECT_TRUE(udp.truncated);
  EXPECT_TRUE(udp.ipv4.empty());
  auto tcp = resolve(addr(7, 1), "web", dns::kTypeA, true);
  EXPECT_FALSE(tcp.truncated);
  EXPECT_EQ(tcp.ipv4.size(), 40u);
  auto raw = ask_udp(addr(7, 1), dns::build_query("web", dns::kTypeA, 3, 1232));  // EDNS: fits
  ASSERT_TRUE(raw);
  EXPECT_EQ(dns::parse_response(*raw)->ipv4.size(), 40u);
}

TEST_F(DnsServerTest, MalformedPacketsGetFormerrAndTheServerKeepsServing) {
  auto& s = start({""});
  add(s, "alpha", addr(8, 1));
  s.upsert(rec("c1/alpha", "alpha", "10.203.8.2"));
  Bytes cut = dns::build_query("web", dns::kTypeA, 0x0A0B);
  cut.resize(14);
  auto raw = ask_udp(addr(8, 1), cut);
  ASSERT_TRUE(raw);
  auto r = dns::parse_response(*raw);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rcode, dns::Rcode::FormErr);
  EXPECT_EQ(r->id, 0x0A0B);
  auto tcp_raw = ask_tcp(addr(8, 1), cut);
  ASSERT_TRUE(tcp_raw);
  EXPECT_EQ(dns::parse_response(*tcp_raw)->rcode, dns::Rcode::FormErr);
  EXPECT_EQ(resolve(addr(8, 1), "web").ipv4, std::vector<std::string>{"10.203.8.2"});
}

TEST_F(DnsServerTest, AddNetworkIsIdempotentAndFailsCleanly) {
  auto& s = start({""});
  add(s, "alpha", addr(9, 1));
  add(s, "alpha", addr(9, 1));  // same gateway: nothing to do
  auto taken = s.add_network("beta", addr(9, 1));  // the address:port is alpha's
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().message(), "dns: network beta: bind 127.203.9.1:15353/udp: Address already in use");
  auto bad = s.add_network("beta", "not-an-ip");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, EINVAL);
  auto foreign = s.add_network("beta", "192.0.2.1");  // not an address of this host
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, EADDRNOTAVAIL);
  // A UDP bind that works and a TCP bind that fails leaves nothing bound:
  // hold the TCP port, fail, release it, and the same add then succeeds.
  {
    UniqueFd holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto at = addr_of(addr(9, 2), kPort);
    ASSERT_EQ(::bind(holder.get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
    ASSERT_EQ(::listen(holder.get(), 1), 0);
    auto r = s.add_network("beta", addr(9, 2));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("/tcp"), std::string::npos);
  }
  add(s, "beta", addr(9, 2));
  // Moving a network to another gateway frees the old address.
  s.upsert(rec("c1/alpha", "alpha", "10.203.9.5"));
  add(s, "alpha", addr(9, 3));
  EXPECT_EQ(resolve(addr(9, 3), "web").ipv4, std::vector<std::string>{"10.203.9.5"});
  EXPECT_FALSE(ask_tcp(addr(9, 1), dns::build_query("web", dns::kTypeA, 1)));
  add(s, "gamma", addr(9, 1));
}

TEST_F(DnsServerTest, UpstreamsComeFromResolvConfUnlessGiven) {
  stack::test::TempDir dir;
  DnsOptions o;
  o.port = kPort;
  o.resolv_conf = dir.path() + "/resolv.conf";
  std::ofstream(o.resolv_conf) << "search example.test\nnameserver not-an-address\n";
  auto bad = DnsServer::create(io_, o);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("upstream \"not-an-address\""), std::string::npos) << bad.error().message();
  o.upstreams = {"127.0.0.1:99999"};
  EXPECT_FALSE(DnsServer::create(io_, o));

  // resolv.conf servers are on port 53: binding one on a loopback address
  // of our own needs root.
  STACK_REQUIRE_ROOT();
  std::ofstream(o.resolv_conf) << "nameserver " << addr(10, 9) << "\n";
  FakeUpstream upstream(addr(10, 9), false, 53);
  o.upstreams.clear();
  auto s = DnsServer::create(io_, o);
  ASSERT_TRUE(s) << s.error().message();
  server_ = std::move(*s);
  add(*server_, "alpha", addr(10, 1));
  EXPECT_EQ(resolve(addr(10, 1), "www.example.org").ipv4, std::vector<std::string>{"192.0.2.77"});
  EXPECT_EQ(upstream.queries(), 1);
}

}  // namespace
