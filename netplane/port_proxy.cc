// The IPv6 port forwarder (port_proxy.h). Ownership: Impl owns the io thread
// and the table of proxied mappings; a Mapping owns its listeners; every
// connection and UDP session is reference counted by the handlers waiting on
// it and registered (weakly) with its Mapping so remove() can close it. All
// socket work after bind happens on the io thread.
#include "netplane/port_proxy.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "netplane/asio_listen.h"
#include "base/fd.h"

namespace stack::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;

constexpr auto kUdpIdle = std::chrono::seconds(90);
constexpr size_t kSpliceChunk = 1 << 16;
constexpr int kRoundsPerTurn = 16;  // splice rounds before yielding to other connections
constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);  // after EMFILE and the like
constexpr size_t kMaxConnections = 8192;  // per mapping (6 fds each); beyond: reset at once
constexpr size_t kMaxUdpSessions = 1024;  // per listener (an fd and a 64 KiB buffer each)

struct Backends {
  std::mutex mu;
  std::vector<Backend> list;
  size_t next = 0;
  // The next backend round robin, or nullopt when there is none.
  std::optional<Backend> pick() {
    std::lock_guard lock(mu);
    if (list.empty()) return std::nullopt;
    return list[next++ % list.size()];
  }
  size_t size() {
    std::lock_guard lock(mu);
    return list.size();
  }
};

// One TCP connection: client <-> backend, two splice pumps. Ends of stream
// and errors end one direction at a time (shutdown of the other side's
// write half), as docker-proxy does, so a backend that answers and closes
// while the client still sends does not lose its answer to a reset.
class TcpConn : public std::enable_shared_from_this<TcpConn> {
 public:
  TcpConn(tcp::socket client, asio::io_context& io) : client_(std::move(client)), backend_(io), timer_(io) {}

  void start(std::shared_ptr<Backends> backends, uint16_t offset) {
    backends_ = std::move(backends);
    offset_ = offset;
    tries_left_ = backends_->size();
    try_connect();
  }

  // Ends the connection abruptly: the client gets a reset, not a clean end
  // of stream, so no backend or a removed mapping is not mistaken for a
  // complete reply.
  void close() {
    error_code ec;
    client_.set_option(asio::socket_base::linger(true, 0), ec);
    finish();
  }

 private:
  struct Pump {
    stack::UniqueFd rd, wr;  // the pipe between the two sockets
    size_t in_pipe = 0;
    bool eof = false, done = false;
  };

  void try_connect() {
    if (closed_) return;
    auto b = tries_left_ ? backends_->pick() : std::nullopt;
    if (!b) return close();
    --tries_left_;
    error_code ec;
    auto addr = asio::ip::make_address_v4(b->ip, ec);
    if (ec) return try_connect();
    backend_.close(ec);
    backend_.open(tcp::v4(), ec);
    if (ec) return close();
    stack::set_cloexec(backend_.native_handle());
    // A replica that silently drops SYNs would hold the client for minutes
    // of SYN retries; after kConnectTimeout the next backend is tried.
    timer_.expires_after(kConnectTimeout);
    timer_.async_wait([self = shared_from_this()](const error_code& e) {
      if (!e && !self->closed_) {
        error_code ec2;
        self->backend_.close(ec2);  // the connect handler then tries the next one
      }
    });
    backend_.async_connect(tcp::endpoint(addr, static_cast<uint16_t>(b->port + offset_)),
                           [self = shared_from_this()](const error_code& e) {
                             self->timer_.cancel();
                             if (self->closed_) return;
                             if (e) return self->try_connect();  // refused or timed out: next backend
                             self->connected();
                           });
  }

  void connected() {
    for (Pump* p : {&up_, &down_}) {
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return close();
      p->rd.reset(fds[0]);
      p->wr.reset(fds[1]);
    }
    error_code ec;
    client_.native_non_blocking(true, ec);
    backend_.native_non_blocking(true, ec);
    client_.set_option(tcp::no_delay(true), ec);
    backend_.set_option(tcp::no_delay(true), ec);
    pump(up_, client_, backend_);
    pump(down_, backend_, client_);
  }

  // Moves what `from` has into the pipe and on to `to` until one side would
  // block; then waits for that side and continues.
  void pump(Pump& p, tcp::socket& from, tcp::socket& to) {
    if (closed_ || p.done) return;
    for (int round = 0; round < kRoundsPerTurn; ++round) {
      if (p.in_pipe == 0 && !p.eof) {
        ssize_t n = ::splice(from.native_handle(), nullptr, p.wr.get(), nullptr, kSpliceChunk,
                             SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
          p.in_pipe += static_cast<size_t>(n);
        } else if (n == 0) {
          p.eof = true;
        } else if (errno == EAGAIN) {
          return wait(p, from, to, tcp::socket::wait_read, from);
        } else if (errno != EINTR) {
          return end(p, from, to);  // `from` reset: its peer sees an end of stream
        }
      }
      if (p.in_pipe > 0) {
        ssize_t n = ::splice(p.rd.get(), nullptr, to.native_handle(), nullptr, p.in_pipe,
                             SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
          p.in_pipe -= static_cast<size_t>(n);
        } else if (n < 0 && errno == EAGAIN) {
          return wait(p, from, to, tcp::socket::wait_write, to);
        } else if (n < 0 && errno != EINTR) {
          return end(p, from, to);  // `to` is gone: what is left cannot be delivered
        }
        continue;
      }
      if (p.eof) return end(p, from, to);
    }
    // A busy stream: let the io thread serve others before going on.
    asio::post(client_.get_executor(), [self = shared_from_this(), &p, &from, &to] { self->pump(p, from, to); });
  }

  // One direction is over: `to` gets its end of stream; the other direction
  // may still be talking. When both are over the sockets close cleanly.
  void end(Pump& p, tcp::socket& from, tcp::socket& to) {
    error_code ec;
    to.shutdown(tcp::socket::shutdown_send, ec);
    from.shutdown(tcp::socket::shutdown_receive, ec);
    p.done = true;
    if (up_.done && down_.done) finish();
  }

  // The kernel still delivers what the send buffers hold, then FIN.
  void finish() {
    closed_ = true;
    error_code ec;
    timer_.cancel();
    client_.close(ec);
    backend_.close(ec);
  }

  void wait(Pump& p, tcp::socket& from, tcp::socket& to, tcp::socket::wait_type what, tcp::socket& on) {
    on.async_wait(what, [self = shared_from_this(), &p, &from, &to](const error_code& e) {
      if (self->closed_) return;
      if (e) return self->end(p, from, to);
      self->pump(p, from, to);
    });
  }

  tcp::socket client_, backend_;
  asio::steady_timer timer_;
  std::shared_ptr<Backends> backends_;
  uint16_t offset_ = 0;
  size_t tries_left_ = 0;
  bool closed_ = false;
  Pump up_, down_;
};

// One UDP client of a UDP listener: its own socket connected to one backend.
struct UdpSession {
  UdpSession(asio::io_context& io) : sock(io) {}
  udp::socket sock;
  udp::endpoint client;
  Backend backend;
  std::chrono::steady_clock::time_point last_active;
  std::array<char, 65536> buf;
};

// One UDP host port: its socket, its receive buffer and its clients.
struct UdpListener {
  std::unique_ptr<udp::socket> sock;
  std::array<char, 65536> buf;
  udp::endpoint from;
  std::map<udp::endpoint, std::shared_ptr<UdpSession>> sessions;
};

struct Mapping : std::enable_shared_from_this<Mapping> {
  Mapping(asio::io_context& i) : io(i), idle_timer(i) {}
  asio::io_context& io;
  PortMapping spec;
  std::shared_ptr<Backends> backends = std::make_shared<Backends>();
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;  // one per host port (TCP)
  std::vector<std::unique_ptr<UdpListener>> udp;            // one per host port (UDP)
  std::list<std::weak_ptr<TcpConn>> conns;
  asio::steady_timer idle_timer;
  bool closed = false;

  void accept(size_t i) {
    acceptors[i]->async_accept([self = shared_from_this(), i](const error_code& e, tcp::socket s) {
      if (self->closed || e == asio::error::operation_aborted) return;
      if (e) {
        // Out of fds (EMFILE) and the like: accepting again at once would
        // fail at once, so pause before the next try.
        auto t = std::make_shared<asio::steady_timer>(self->io, kAcceptRetry);
        t->async_wait([self, i, t](const error_code&) {
          if (!self->closed) self->accept(i);
        });
        return;
      }
      stack::set_cloexec(s.native_handle());
      self->conns.remove_if([](const std::weak_ptr<TcpConn>& w) { return w.expired(); });
      auto c = std::make_shared<TcpConn>(std::move(s), self->io);
      if (self->conns.size() >= kMaxConnections) {
        c->close();  // reset: the client sees a failed connection, stackd keeps its fds
      } else {
        self->conns.push_back(c);
        c->start(self->backends, static_cast<uint16_t>(i));
      }
      self->accept(i);
    });
  }

  void receive(size_t i) {
    UdpListener& l = *udp[i];
    l.sock->async_receive_from(asio::buffer(l.buf), l.from, [self = shared_from_this(), i](const error_code& e, size_t n) {
      if (self->closed || e == asio::error::operation_aborted) return;
      if (!e) self->datagram(i, n);
      self->receive(i);
    });
  }

  void datagram(size_t i, size_t n) {
    UdpListener& l = *udp[i];
    auto it = l.sessions.find(l.from);
    if (it == l.sessions.end()) {
      if (l.sessions.size() >= kMaxUdpSessions) return;  // dropped, as a full conntrack table would
      auto b = backends->pick();
      if (!b) return;  // no replica: dropped, as with no DNAT rule
      error_code ec;
      auto addr = asio::ip::make_address_v4(b->ip, ec);
      if (ec) return;
      auto s = std::make_shared<UdpSession>(io);
      s->client = l.from;
      s->backend = *b;
      s->sock.open(udp::v4(), ec);
      stack::set_cloexec(s->sock.native_handle());
      if (!ec) s->sock.connect(udp::endpoint(addr, static_cast<uint16_t>(b->port + i)), ec);
      if (ec) return;
      it = l.sessions.emplace(l.from, s).first;
      reply_loop(i, s);
    }
    it->second->last_active = std::chrono::steady_clock::now();
    error_code ec;
    it->second->sock.send(asio::buffer(l.buf.data(), n), 0, ec);
  }

  void reply_loop(size_t i, std::shared_ptr<UdpSession> s) {
    s->sock.async_receive(asio::buffer(s->buf), [self = shared_from_this(), i, s](const error_code& e, size_t n) {
      if (self->closed || e == asio::error::operation_aborted) return;
      if (e && e != asio::error::connection_refused) {
        // The session is broken: forget it, so the client's next datagram
        // starts a new one (a refusal is only a replica not listening yet).
        auto& table = self->udp[i]->sessions;
        if (auto it = table.find(s->client); it != table.end() && it->second == s) table.erase(it);
        error_code ec;
        s->sock.close(ec);
        return;
      }
      if (!e) {
        s->last_active = std::chrono::steady_clock::now();
        error_code ec;
        self->udp[i]->sock->send_to(asio::buffer(s->buf.data(), n), s->client, 0, ec);
      }
      self->reply_loop(i, s);
    });
  }

  void expire_idle() {
    idle_timer.expires_after(std::chrono::seconds(10));
    idle_timer.async_wait([self = shared_from_this()](const error_code& e) {
      if (e || self->closed) return;
      auto now = std::chrono::steady_clock::now();
      self->drop_sessions_if([&](const UdpSession& s) { return now - s.last_active > kUdpIdle; });
      self->expire_idle();
    });
  }

  template <class Pred>
  void drop_sessions_if(Pred pred) {
    for (auto& l : udp)
      for (auto it = l->sessions.begin(); it != l->sessions.end();) {
        if (!pred(*it->second)) {
          ++it;
          continue;
        }
        error_code ec;
        it->second->sock.close(ec);
        it = l->sessions.erase(it);
      }
  }

  // Io thread only. UDP clients of removed backends start over with the
  // next datagram (what the conntrack flush does for DNAT'd UDP).
  void drop_sessions_not_in(const std::vector<Backend>& list) {
    drop_sessions_if([&](const UdpSession& s) {
      return std::none_of(list.begin(), list.end(),
                          [&](const Backend& n) { return n.ip == s.backend.ip && n.port == s.backend.port; });
    });
  }

  // Io thread only.
  void close() {
    closed = true;
    error_code ec;
    for (auto& a : acceptors) a->close(ec);
    for (auto& l : udp) l->sock->close(ec);
    for (auto& w : conns)
      if (auto c = w.lock()) c->close();
    drop_sessions_if([](const UdpSession&) { return true; });
    idle_timer.cancel();
  }
};

}  // namespace

struct PortProxy::Impl {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread;
  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<Mapping>> mappings;  // by mapping_tag

  // Runs f on the io thread and waits for it.
  void on_io(std::function<void()> f) {
    std::packaged_task<void()> task(std::move(f));
    auto done = task.get_future();
    asio::post(io, [&task] { task(); });
    done.wait();
  }
};

PortProxy::PortProxy() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([io = &impl_->io] {
    // splice() into a socket whose peer is gone raises SIGPIPE (it has no
    // MSG_NOSIGNAL); blocked on this thread it stays pending and harmless,
    // and the call fails with EPIPE, which ends that direction.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    io->run();
  });
}

PortProxy::~PortProxy() {
  std::vector<std::shared_ptr<Mapping>> all;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [_, m] : impl_->mappings) all.push_back(m);
    impl_->mappings.clear();
  }
  impl_->on_io([&] {
    for (auto& m : all) m->close();
  });
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
}

stack::Result<void> PortProxy::add(const PortMapping& m) {
  const std::string tag = mapping_tag(m);
  const std::string what = "publish " + tag;
  error_code ec;
  auto addr = asio::ip::make_address_v6(m.host_ip, ec);
  if (ec) return stack::fail(what + ": host ip '" + m.host_ip + "' is not an IPv6 address", EINVAL);
  STACK_TRY(check_ports_and_backends(m));
  uint16_t last = m.host_port_end ? m.host_port_end : m.host_port;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->mappings.count(tag)) return stack::fail(what + ": already published", EEXIST);
  }
  auto map = std::make_shared<Mapping>(impl_->io);
  map->spec = m;
  map->backends->list = m.backends;
  // Bound here, in the caller's thread, so a taken port is this call's error;
  // the sockets close again on any failure (the unique_ptrs go with `map`).
  for (uint32_t p = m.host_port; p <= last; ++p) {
    auto fail = [&](const error_code& e) {
      return stack::fail(what + ": bind [" + m.host_ip + "]:" + std::to_string(p) + "/" + m.protocol + ": " + e.message(),
                      e.value());
    };
    if (m.protocol == "udp") {
      auto l = std::make_unique<UdpListener>();
      l->sock = std::make_unique<udp::socket>(impl_->io);
      if (auto e = bind_udp(*l->sock, udp::endpoint(addr, static_cast<uint16_t>(p)))) return fail(e);
      map->udp.push_back(std::move(l));
    } else {
      auto a = std::make_unique<tcp::acceptor>(impl_->io);
      if (auto e = listen_tcp(*a, tcp::endpoint(addr, static_cast<uint16_t>(p)))) return fail(e);
      map->acceptors.push_back(std::move(a));
    }
  }
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->mappings.emplace(tag, map).second) return stack::fail(what + ": already published", EEXIST);
  }
  asio::post(impl_->io, [map] {
    for (size_t i = 0; i < map->acceptors.size(); ++i) map->accept(i);
    for (size_t i = 0; i < map->udp.size(); ++i) map->receive(i);
    if (!map->udp.empty()) map->expire_idle();
  });
  return {};
}

bool PortProxy::set_backends(const PortMapping& m) {
  std::shared_ptr<Mapping> map;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->mappings.find(mapping_tag(m));
    if (it == impl_->mappings.end()) return false;
    map = it->second;
  }
  {
    std::lock_guard lock(map->backends->mu);
    map->backends->list = m.backends;
  }
  if (!map->udp.empty())
    asio::post(impl_->io, [map, list = m.backends] { map->drop_sessions_not_in(list); });
  return true;
}

void PortProxy::remove(const PortMapping& m) {
  std::shared_ptr<Mapping> map;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->mappings.find(mapping_tag(m));
    if (it == impl_->mappings.end()) return;
    map = it->second;
    impl_->mappings.erase(it);
  }
  impl_->on_io([&] { map->close(); });
}

bool PortProxy::has(const PortMapping& m) const {
  std::lock_guard lock(impl_->mu);
  return impl_->mappings.count(mapping_tag(m)) > 0;
}

}  // namespace stack::net
