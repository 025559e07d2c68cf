// stack-bench-dns: the embedded resolver's latency on loopback. One
// DnsServer on 127.204.0.1 (port --port), its io_context on one thread (as
// stackd runs it); a client in this process sends queries one after the
// other (each waits for its answer) and times every round trip:
//   udp A        a name with 3 replicas (round robin), UDP
//   udp NXDOMAIN a name inside the stack's suffix that does not exist
//   tcp A        the same as udp A over one TCP connection
//   udp forward  a foreign name, relayed to a fake upstream on 127.204.0.9
//                (answers at once), so this is our forwarding overhead
//   new record   upsert of a fresh name (in a network of ~100 records), then
//                query until it resolves: from upsert() to the first answer
//                that has it
// Not a test: it prints a table and exits 0 unless something failed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "bench/bench_support.h"
#include "netplane/dns_message.h"
#include "netplane/dns_server.h"
#include "base/fd.h"

namespace {

namespace dns = stack::net::dns;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<uint8_t>;
using stack::UniqueFd;

constexpr const char* kServer = "127.204.0.1";
constexpr const char* kUpstream = "127.204.0.9";

sockaddr_in addr_of(const char* ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

UniqueFd connected(int type, const char* ip, uint16_t port) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  auto a = addr_of(ip, port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::fprintf(stderr, "connect %s:%u: %s\n", ip, port, std::strerror(errno));
    std::exit(1);
  }
  if (type == SOCK_STREAM) {
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

bool wait_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 5000) == 1;
}

// One round trip; the parsed answer or nullopt (timeout, error).
std::optional<dns::Response> ask(int fd, bool tcp, const Bytes& query) {
  Bytes out = query;
  if (tcp) {
    out.insert(out.begin(), {static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size() & 0xFF)});
  }
  if (::send(fd, out.data(), out.size(), 0) != static_cast<ssize_t>(out.size())) return std::nullopt;
  Bytes buf(65535);
  size_t have = 0;
  for (;;) {
    if (!wait_readable(fd)) return std::nullopt;
    ssize_t n = ::recv(fd, buf.data() + have, buf.size() - have, 0);
    if (n <= 0) return std::nullopt;
    have += static_cast<size_t>(n);
    if (!tcp) break;
    if (have >= 2 && have >= 2 + (size_t{buf[0]} << 8 | buf[1])) break;
  }
  std::span<const uint8_t> msg(buf.data() + (tcp ? 2 : 0), have - (tcp ? 2 : 0));
  auto r = dns::parse_response(msg);
  if (!r) return std::nullopt;
  return *r;
}

struct Row {
  std::string name;
  std::vector<double> ms;
  int failed = 0;
};

Row measure(const std::string& name, int fd, bool tcp, const std::string& qname, int count, dns::Rcode want) {
  Row row{name, {}, 0};
  row.ms.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    auto q = dns::build_query(qname, dns::kTypeA, static_cast<uint16_t>(i));
    auto t0 = Clock::now();
    auto r = ask(fd, tcp, q);
    auto t1 = Clock::now();
    if (!r || r->rcode != want || r->id != static_cast<uint16_t>(i)) {
      ++row.failed;
      continue;
    }
    row.ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return row;
}

// Answers every query at once with one A record, until stopped.
void fake_upstream(int fd, const std::atomic<bool>& stop) {
  in_addr a{};
  inet_pton(AF_INET, "192.0.2.1", &a);
  std::vector<uint32_t> addrs{a.s_addr};
  Bytes buf(4096);
  while (!stop) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) != 1) continue;
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    auto q = dns::parse_query(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
    if (!q) continue;
    auto out = dns::build_response(*q, dns::Rcode::NoError, addrs, 512);
    ::sendto(fd, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
  }
}

void print(const Row& r) {
  using stack::bench::percentile;
  double max = 0;
  for (double v : r.ms) max = std::max(max, v);
  std::printf("%-14s %7zu %6d %9.3f %9.3f %9.3f %9.3f\n", r.name.c_str(), r.ms.size(), r.failed,
              percentile(r.ms, 0.5), percentile(r.ms, 0.9), percentile(r.ms, 0.99), max);
}

}  // namespace

int main(int argc, char** argv) {
  int queries = 20000;
  uint16_t port = 15354;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--queries" && i + 1 < argc) queries = std::atoi(argv[++i]);
    else if (a == "--port" && i + 1 < argc) port = static_cast<uint16_t>(std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: stack-bench-dns [--queries N (20000)] [--port P (15354)]\n");
      return 2;
    }
  }

  UniqueFd upstream_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto up = addr_of(kUpstream, port);
  if (::bind(upstream_fd.get(), reinterpret_cast<sockaddr*>(&up), sizeof up) != 0) {
    std::fprintf(stderr, "bind fake upstream %s:%u: %s\n", kUpstream, port, std::strerror(errno));
    return 1;
  }
  std::atomic<bool> stop{false};
  std::thread upstream([&] { fake_upstream(upstream_fd.get(), stop); });

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  stack::net::DnsOptions options;
  options.port = port;
  options.upstreams = {std::string(kUpstream) + ":" + std::to_string(port)};
  std::unique_ptr<stack::net::DnsServer> server;
  auto created = stack::net::DnsServer::create(io, options);
  auto added = created ? (*created)->add_network("bench", kServer) : tl::unexpected(created.error());
  int rc = 0;
  if (!added) {
    std::fprintf(stderr, "cannot start the resolver: %s\n", added.error().message().c_str());
    rc = 1;
  } else {
    server = std::move(*created);
    auto& s = *server;
    for (int i = 2; i <= 4; ++i)
      s.upsert({"web-" + std::to_string(i), "bench", {"web", "web.benchstack"}, "10.204.0." + std::to_string(i)});
    auto udp = connected(SOCK_DGRAM, kServer, port);
    auto tcp = connected(SOCK_STREAM, kServer, port);
    measure("warmup", udp.get(), false, "web", 1000, dns::Rcode::NoError);
    std::vector<Row> rows;
    rows.push_back(measure("udp A", udp.get(), false, "web.benchstack", queries, dns::Rcode::NoError));
    rows.push_back(measure("udp NXDOMAIN", udp.get(), false, "nope.benchstack", queries, dns::Rcode::NxDomain));
    rows.push_back(measure("tcp A", tcp.get(), true, "web.benchstack", queries, dns::Rcode::NoError));
    rows.push_back(measure("udp forward", udp.get(), false, "www.example.org", queries / 4, dns::Rcode::NoError));

    // A network of ~100 replicas (an upsert re-indexes its network: O(records)),
    // one of which is restarted under a new name each round.
    for (int i = 0; i < 100; ++i)
      s.upsert({"bg/" + std::to_string(i), "bench", {"bg" + std::to_string(i), "bg.benchstack"}, "10.204.2.1"});
    Row fresh{"new record", {}, 0};
    int polls = 0;
    for (int i = 0; i < 1000; ++i) {
      std::string name = "new" + std::to_string(i);
      auto t0 = Clock::now();
      s.upsert({"new", "bench", {name, name + ".benchstack"}, "10.204.1.1"});
      bool seen = false;
      for (int tries = 0; tries < 1000 && !seen; ++tries, ++polls) {
        auto r = ask(udp.get(), false, dns::build_query(name + ".benchstack", dns::kTypeA, 1));
        seen = r && !r->ipv4.empty();
      }
      if (!seen) ++fresh.failed;
      else fresh.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    rows.push_back(fresh);

    std::printf("stack-bench-dns: %d sequential queries per row (udp forward: %d), server %s:%u, 1 loop thread\n",
                queries, queries / 4, kServer, port);
    std::printf("%-14s %7s %6s %9s %9s %9s %9s\n", "row", "ok", "failed", "p50_ms", "p90_ms", "p99_ms", "max_ms");
    for (const auto& r : rows) {
      print(r);
      if (r.failed) rc = 1;
    }
    std::printf("new record: %d upserts, %d queries until resolvable (1 each = visible to the very next query)\n",
                static_cast<int>(fresh.ms.size()), polls);
  }
  server.reset();  // closes the listeners before the loop stops
  work.reset();
  io.stop();
  loop.join();
  stop = true;
  upstream.join();
  return rc;
}
