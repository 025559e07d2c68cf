// The resolver's sockets. Wire format in dns_message.h, names and policy in
// dns_records.h; this file only moves packets.
//
// Lifetimes and threads: the caller's io_context may run on several threads.
// Everything a handler touches is reference counted (the Shared state, the
// listeners, each forward and TCP connection), so a handler that runs after
// remove_network() or ~DnsServer() finds a closed socket and stops; nothing
// refers back to DnsServer itself. Each listener serialises every operation
// on its socket under its own mutex (closing comes from the caller's
// thread); a forward and a TCP connection run on their own strand.
#include "netplane/dns_server.h"
#include "base/io.h"

#include <array>
#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "netplane/asio_listen.h"
#include "netplane/dns_message.h"
#include "netplane/dns_records.h"
#include "netplane/etc_files.h"
#include "base/fd.h"

namespace stack::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using Bytes = std::vector<uint8_t>;
using Reply = std::function<void(Bytes)>;

constexpr size_t kMaxForwards = 1024;       // in flight at once; beyond that: SERVFAIL
constexpr size_t kMaxTcpConnections = 256;  // per listener
constexpr auto kTcpIdle = std::chrono::seconds(10);

struct Shared {
  Shared(asio::io_context& i, std::vector<udp::endpoint> up, int timeout_ms)
      : io(i), upstreams(std::move(up)), timeout(timeout_ms) {}
  asio::io_context& io;
  DnsRecordTable table;
  const std::vector<udp::endpoint> upstreams;
  const std::chrono::milliseconds timeout;
  std::atomic<size_t> forwards{0};
};

template <class Endpoint>
tl::unexpected<stack::Error> bind_failure(const Endpoint& at, const char* proto, const boost::system::error_code& ec) {
  // system_category values are errnos: message() adds strerror.
  return stack::fail("bind " + at.address().to_string() + ":" + std::to_string(at.port()) + "/" + proto, ec.value());
}

uint16_t random_id() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<uint16_t>(rng());
}

// One forwarded query: sent to each upstream in turn (a fresh socket, a
// fresh random id, connected so only that upstream's packets arrive) until
// one answers in time; the answer goes back unchanged except for the id.
class Forward : public std::enable_shared_from_this<Forward> {
 public:
  Forward(std::shared_ptr<Shared> shared, Bytes query, dns::Query parsed, Reply reply)
      : shared_(std::move(shared)),
        strand_(asio::make_strand(shared_->io)),
        socket_(strand_),
        timer_(strand_),
        query_(std::move(query)),
        parsed_(std::move(parsed)),
        reply_(std::move(reply)) {
    client_id_ = dns::packet_id(query_);
    ++shared_->forwards;
  }
  ~Forward() { --shared_->forwards; }

  void start() {
    asio::dispatch(strand_, [self = shared_from_this()] { self->attempt(); });
  }

 private:
  void attempt() {
    boost::system::error_code ec;
    socket_.close(ec);
    if (next_ >= shared_->upstreams.size()) return finish(dns::build_response(parsed_, dns::Rcode::ServFail));
    const auto& upstream = shared_->upstreams[next_++];
    unsigned generation = ++generation_;
    socket_.open(upstream.protocol(), ec);
    stack::set_cloexec(socket_.native_handle());  // stackd spawns shims: no inherited sockets
    if (!ec) socket_.connect(upstream, ec);
    if (ec) return attempt();
    our_id_ = random_id();
    dns::set_packet_id(query_, our_id_);
    socket_.send(asio::buffer(query_), 0, ec);
    if (ec) return attempt();
    timer_.expires_after(shared_->timeout);
    timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& e) {
      if (!e && generation == self->generation_ && !self->done_) self->attempt();
    });
    receive(generation);
  }

  void receive(unsigned generation) {
    socket_.async_receive(asio::buffer(buf_), [self = shared_from_this(), generation](
                                                  const boost::system::error_code& e, size_t n) {
      if (generation != self->generation_ || self->done_) return;
      // e.g. ECONNREFUSED (ICMP port unreachable): no need to wait it out.
      if (e) return e == asio::error::operation_aborted ? void() : self->attempt();
      std::span<uint8_t> answer(self->buf_.data(), n);
      // Ignore anything that is not the answer to our id (late answers to
      // an earlier attempt use another socket and never get here).
      if (n < dns::kHeaderSize || dns::packet_id(answer) != self->our_id_ || !(answer[2] & 0x80))
        return self->receive(generation);
      dns::set_packet_id(answer, self->client_id_);
      self->finish(Bytes(answer.begin(), answer.end()));
    });
  }

  void finish(Bytes answer) {
    done_ = true;
    timer_.cancel();
    boost::system::error_code ec;
    socket_.close(ec);
    reply_(std::move(answer));
  }

  std::shared_ptr<Shared> shared_;
  asio::strand<asio::io_context::executor_type> strand_;
  udp::socket socket_;
  asio::steady_timer timer_;
  Bytes query_;
  dns::Query parsed_;
  Reply reply_;
  uint16_t client_id_ = 0, our_id_ = 0;
  size_t next_ = 0;
  unsigned generation_ = 0;
  bool done_ = false;
  std::array<uint8_t, 65535> buf_;
};

// Answers one packet that arrived on `network`'s listener, over UDP (answers
// limited to what the client takes, else truncated) or TCP. Calls `reply` at most once, maybe
// later (forwarded) and from another thread.
void answer(const std::shared_ptr<Shared>& shared, const std::string& network, Bytes packet, bool over_udp,
            Reply reply) {
  auto query = dns::parse_query(packet);
  if (!query) {
    if (auto err = dns::build_format_error(packet)) reply(std::move(*err));
    return;
  }
  size_t limit = over_udp ? dns::udp_limit(*query) : 65535;
  if (query->opcode != 0) return reply(dns::build_response(*query, dns::Rcode::NotImp));
  auto name = dns::lookup_name(*query);
  auto found = name ? shared->table.lookup(network, *name) : DnsRecordTable::Lookup{};
  switch (found.verdict) {
    case DnsRecordTable::Verdict::Found: {
      bool wants_a = query->qtype == dns::kTypeA || query->qtype == dns::kTypeANY;
      std::span<const uint32_t> addrs = wants_a ? std::span<const uint32_t>(found.ipv4) : std::span<const uint32_t>();
      return reply(dns::build_response(*query, dns::Rcode::NoError, addrs, limit));
    }
    case DnsRecordTable::Verdict::NxDomain:
      return reply(dns::build_response(*query, dns::Rcode::NxDomain));
    case DnsRecordTable::Verdict::Forward:
      if (shared->forwards.load() >= kMaxForwards) return reply(dns::build_response(*query, dns::Rcode::ServFail));
      std::make_shared<Forward>(shared, std::move(packet), std::move(*query), std::move(reply))->start();
      return;
  }
}

class UdpListener : public std::enable_shared_from_this<UdpListener> {
 public:
  UdpListener(std::shared_ptr<Shared> shared, std::string network)
      : shared_(std::move(shared)), network_(std::move(network)), socket_(shared_->io) {}

  stack::Result<void> bind(const udp::endpoint& at) {
    if (auto ec = bind_udp(socket_, at)) return bind_failure(at, "udp", ec);
    std::lock_guard lock(mu_);
    arm();
    return {};
  }

  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    socket_.close(ignored_);
  }

 private:
  void arm() {  // mu_ held
    socket_.async_receive_from(asio::buffer(buf_), from_, [self = shared_from_this()](
                                                              const boost::system::error_code& e, size_t n) {
      self->on_packet(e, n);
    });
  }

  void on_packet(const boost::system::error_code& e, size_t n) {
    Bytes packet(buf_.begin(), buf_.begin() + static_cast<long>(e ? 0 : n));
    udp::endpoint client = from_;
    {
      std::lock_guard lock(mu_);
      if (closed_ || e == asio::error::operation_aborted) return;
      arm();  // buf_ and from_ are copied: the next packet may come in now
    }
    if (e) return;  // e.g. ICMP-reported errors: keep serving
    answer(shared_, network_, std::move(packet), true, [self = shared_from_this(), client](Bytes out) {
      self->send(client, std::move(out));
    });
  }

  void send(const udp::endpoint& to, Bytes data) {
    std::lock_guard lock(mu_);
    if (closed_) return;
    auto held = std::make_shared<Bytes>(std::move(data));
    socket_.async_send_to(asio::buffer(*held), to, [held](const boost::system::error_code&, size_t) {});
  }

  std::shared_ptr<Shared> shared_;
  std::string network_;
  std::mutex mu_;
  bool closed_ = false;
  boost::system::error_code ignored_;  // close() cannot fail in a way we act on
  udp::socket socket_;
  udp::endpoint from_;
  std::array<uint8_t, 65535> buf_;
};

// One TCP client: length-prefixed queries answered one at a time, closed
// after kTcpIdle without a query.
class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(std::shared_ptr<Shared> shared, std::string network, tcp::socket socket)
      : shared_(std::move(shared)), network_(std::move(network)), socket_(std::move(socket)),
        timer_(socket_.get_executor()) {}

  void start() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->read_length(); });
  }
  // From any thread: hops onto the connection's strand.
  void close() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->shutdown(); });
  }

 private:
  void shutdown() {
    boost::system::error_code ec;
    timer_.cancel();
    socket_.close(ec);
  }

  void read_length() {
    timer_.expires_after(kTcpIdle);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
      if (!e) self->shutdown();
    });
    asio::async_read(socket_, asio::buffer(len_), [self = shared_from_this()](const boost::system::error_code& e, size_t) {
      if (e) return self->shutdown();
      size_t n = size_t{self->len_[0]} << 8 | self->len_[1];
      if (n == 0) return self->shutdown();
      self->body_.resize(n);
      asio::async_read(self->socket_, asio::buffer(self->body_), [self](const boost::system::error_code& e2, size_t) {
        if (e2) return self->shutdown();
        answer(self->shared_, self->network_, std::move(self->body_), false, [self](Bytes out) {
          asio::dispatch(self->socket_.get_executor(), [self, out = std::move(out)]() mutable { self->write(std::move(out)); });
        });
      });
    });
  }

  void write(Bytes out) {
    if (out.size() > 65535) return shutdown();
    out_.clear();
    out_.push_back(static_cast<uint8_t>(out.size() >> 8));
    out_.push_back(static_cast<uint8_t>(out.size() & 0xFF));
    out_.insert(out_.end(), out.begin(), out.end());
    asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](const boost::system::error_code& e, size_t) {
      if (e) return self->shutdown();
      self->read_length();
    });
  }

  std::shared_ptr<Shared> shared_;
  std::string network_;
  tcp::socket socket_;  // on its own strand (accepted with one)
  asio::steady_timer timer_;
  std::array<uint8_t, 2> len_{};
  Bytes body_, out_;
};

class TcpListener : public std::enable_shared_from_this<TcpListener> {
 public:
  TcpListener(std::shared_ptr<Shared> shared, std::string network)
      : shared_(std::move(shared)), network_(std::move(network)), acceptor_(shared_->io) {}

  stack::Result<void> bind(const tcp::endpoint& at) {
    if (auto ec = listen_tcp(acceptor_, at)) return bind_failure(at, "tcp", ec);
    std::lock_guard lock(mu_);
    arm();
    return {};
  }

  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    acceptor_.close(ignored_);
    for (auto& weak : connections_)
      if (auto c = weak.lock()) c->close();
    connections_.clear();
  }

 private:
  void arm() {  // mu_ held
    acceptor_.async_accept(asio::make_strand(shared_->io), [self = shared_from_this()](
                                                               const boost::system::error_code& e, tcp::socket s) {
      std::lock_guard lock(self->mu_);
      if (self->closed_ || e == asio::error::operation_aborted) return;
      std::erase_if(self->connections_, [](const auto& w) { return w.expired(); });
      if (!e && self->connections_.size() < kMaxTcpConnections) {
        stack::set_cloexec(s.native_handle());
        auto conn = std::make_shared<TcpConnection>(self->shared_, self->network_, std::move(s));
        self->connections_.push_back(conn);
        conn->start();
      }
      self->arm();
    });
  }

  std::shared_ptr<Shared> shared_;
  std::string network_;
  std::mutex mu_;
  bool closed_ = false;
  boost::system::error_code ignored_;
  tcp::acceptor acceptor_;
  std::vector<std::weak_ptr<TcpConnection>> connections_;
};

stack::Result<std::vector<udp::endpoint>> resolve_upstreams(const DnsOptions& options) {
  std::vector<std::string> specs = options.upstreams;
  if (specs.empty()) {
    auto text = io::read_file(options.resolv_conf);
    if (text)
      specs = parse_resolv_conf(*text).nameservers;
    else if (text.error().code != ENOENT)
      return tl::unexpected(text.error().wrap("dns"));
  }
  std::vector<udp::endpoint> out;
  for (const auto& spec : specs) {
    if (spec.empty()) continue;
    auto up = parse_dns_upstream(spec);
    if (!up) return tl::unexpected(up.error());
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(up->address, ec);
    if (ec) return stack::fail("dns: upstream \"" + spec + "\": not an IP address", EINVAL);
    out.emplace_back(addr, up->port);
  }
  return out;
}

}  // namespace

stack::Result<DnsUpstream> parse_dns_upstream(const std::string& spec) {
  auto bad = [&] { return stack::fail("dns: upstream \"" + spec + "\": want ip, ip:port or [ipv6]:port", EINVAL); };
  DnsUpstream up;
  std::string port;
  if (!spec.empty() && spec.front() == '[') {
    auto close = spec.find(']');
    if (close == std::string::npos) return bad();
    up.address = spec.substr(1, close - 1);
    if (close + 1 < spec.size()) {
      if (spec[close + 1] != ':') return bad();
      port = spec.substr(close + 2);
      if (port.empty()) return bad();
    }
  } else if (std::count(spec.begin(), spec.end(), ':') == 1) {
    up.address = spec.substr(0, spec.find(':'));
    port = spec.substr(spec.find(':') + 1);
    if (port.empty()) return bad();
  } else {
    up.address = spec;  // IPv4 or bare IPv6
  }
  if (up.address.empty()) return bad();
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return bad();
    unsigned long p = std::stoul(port);
    if (p == 0 || p > 65535) return bad();
    up.port = static_cast<uint16_t>(p);
  }
  return up;
}

struct DnsServer::Impl {
  struct Listeners {
    std::string gateway;
    std::shared_ptr<UdpListener> udp;
    std::shared_ptr<TcpListener> tcp;
    void close() {
      if (udp) udp->close();
      if (tcp) tcp->close();
    }
  };
  DnsOptions options;
  std::shared_ptr<Shared> shared;
  std::mutex mu;  // networks
  std::map<std::string, Listeners> networks;
};

stack::Result<std::unique_ptr<DnsServer>> DnsServer::create(boost::asio::io_context& io, DnsOptions options) {
  auto upstreams = resolve_upstreams(options);
  if (!upstreams) return tl::unexpected(upstreams.error());
  std::unique_ptr<DnsServer> server(new DnsServer());
  server->impl_ = std::make_unique<Impl>();
  server->impl_->shared = std::make_shared<Shared>(io, std::move(*upstreams), options.upstream_timeout_ms);
  server->impl_->options = std::move(options);
  return server;
}

DnsServer::~DnsServer() {
  if (!impl_) return;
  std::lock_guard lock(impl_->mu);
  for (auto& [name, l] : impl_->networks) l.close();
}

stack::Result<void> DnsServer::add_network(const std::string& network, const std::string& gateway) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->networks.find(network);
  if (it != impl_->networks.end() && it->second.gateway == gateway) return {};
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(gateway, ec);
  if (ec) return stack::fail("dns: network " + network + ": gateway \"" + gateway + "\" is not an IP address", EINVAL);
  // A changed gateway: the old sockets go first (the new address may be
  // the same port on an address that moved).
  if (it != impl_->networks.end()) {
    it->second.close();
    impl_->networks.erase(it);
  }
  Impl::Listeners l{gateway, std::make_shared<UdpListener>(impl_->shared, network),
                    std::make_shared<TcpListener>(impl_->shared, network)};
  auto fail = [&](const stack::Error& e) {
    l.close();  // the UDP socket if TCP failed: nothing stays bound
    return tl::unexpected(e.wrap("dns: network " + network));
  };
  if (auto r = l.udp->bind(udp::endpoint(addr, impl_->options.port)); !r) return fail(r.error());
  if (auto r = l.tcp->bind(tcp::endpoint(addr, impl_->options.port)); !r) return fail(r.error());
  impl_->networks.emplace(network, std::move(l));
  return {};
}

void DnsServer::remove_network(const std::string& network) {
  {
    std::lock_guard lock(impl_->mu);
    if (auto it = impl_->networks.find(network); it != impl_->networks.end()) {
      it->second.close();
      impl_->networks.erase(it);
    }
  }
  impl_->shared->table.remove_network(network);
}

void DnsServer::upsert(const DnsRecord& record) { impl_->shared->table.upsert(record); }
void DnsServer::remove(const std::string& key) { impl_->shared->table.remove(key); }
std::vector<DnsRecord> DnsServer::records(const std::string& network) const {
  return impl_->shared->table.records(network);
}

}  // namespace stack::net
