// The IPv6 port forwarder (port_proxy.h). Ownership: Impl owns the io thread
// and the table of proxied mappings; a Mapping owns its listeners; every
// connection and UDP session is reference counted by the handlers waiting on
// it and registered (weakly) with its Mapping so remove() can close it. All
// socket work after bind happens on the io thread.
#include "netplane/port_proxy.h"

#include <fcntl.h>
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
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "runtime/kernel/fd.h"

namespace stack::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;

constexpr auto kUdpIdle = std::chrono::seconds(90);
constexpr size_t kSpliceChunk = 1 << 16;
constexpr int kRoundsPerTurn = 16;  // splice rounds before yielding to other connections

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

// One TCP connection: client <-> backend, two splice pumps.
class TcpConn : public std::enable_shared_from_this<TcpConn> {
 public:
  TcpConn(tcp::socket client, asio::io_context& io) : client_(std::move(client)), backend_(io) {}

  void start(std::shared_ptr<Backends> backends, uint16_t offset) {
    backends_ = std::move(backends);
    offset_ = offset;
    tries_left_ = backends_->size();
    try_connect();
  }

  // Ends the connection abruptly: the client gets a reset, not a clean end
  // of stream, so a failed backend or a removed mapping is not mistaken for
  // a complete reply. (The clean end is finish(); a reset there could drop
  // reply bytes still in the send buffer.)
  void close() {
    error_code ec;
    client_.set_option(asio::socket_base::linger(true, 0), ec);
    client_.close(ec);
    backend_.close(ec);
  }

 private:
  struct Pump {
    rt::UniqueFd rd, wr;  // the pipe between the two sockets
    size_t in_pipe = 0;
    bool eof = false, done = false;
  };

  void try_connect() {
    auto b = tries_left_ ? backends_->pick() : std::nullopt;
    if (!b) return close();
    --tries_left_;
    error_code ec;
    auto addr = asio::ip::make_address_v4(b->ip, ec);
    if (ec) return close();
    backend_.close(ec);
    backend_.open(tcp::v4(), ec);
    if (ec) return close();
    rt::set_cloexec(backend_.native_handle());
    backend_.async_connect(tcp::endpoint(addr, static_cast<uint16_t>(b->port + offset_)),
                           [self = shared_from_this()](const error_code& e) {
                             if (e == asio::error::operation_aborted) return;
                             if (e) return self->try_connect();  // next backend, if any
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
    if (!from.is_open() || !to.is_open()) return;
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
          return close();
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
          return close();
        }
        continue;
      }
      if (p.eof) {
        // Half-close: the other direction may still be talking.
        error_code ec;
        to.shutdown(tcp::socket::shutdown_send, ec);
        p.done = true;
        if (up_.done && down_.done) finish();
        return;
      }
    }
    // A busy stream: let the io thread serve others before going on.
    asio::post(client_.get_executor(), [self = shared_from_this(), &p, &from, &to] { self->pump(p, from, to); });
  }

  // Both directions ended cleanly: the kernel still delivers what the send
  // buffers hold, then FIN (already sent by the shutdowns).
  void finish() {
    error_code ec;
    client_.close(ec);
    backend_.close(ec);
  }

  void wait(Pump& p, tcp::socket& from, tcp::socket& to, tcp::socket::wait_type what, tcp::socket& on) {
    on.async_wait(what, [self = shared_from_this(), &p, &from, &to](const error_code& e) {
      if (e) return self->close();
      self->pump(p, from, to);
    });
  }

  tcp::socket client_, backend_;
  std::shared_ptr<Backends> backends_;
  uint16_t offset_ = 0;
  size_t tries_left_ = 0;
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

struct Mapping : std::enable_shared_from_this<Mapping> {
  Mapping(asio::io_context& i) : io(i), idle_timer(i) {}
  asio::io_context& io;
  PortMapping spec;
  std::shared_ptr<Backends> backends = std::make_shared<Backends>();
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::unique_ptr<udp::socket>> udp_listeners;
  std::list<std::weak_ptr<TcpConn>> conns;
  std::vector<std::map<udp::endpoint, std::shared_ptr<UdpSession>>> sessions;  // per UDP listener
  std::array<char, 65536> udp_buf;
  udp::endpoint udp_from;
  asio::steady_timer idle_timer;
  bool closed = false;

  void accept(size_t i) {
    acceptors[i]->async_accept([self = shared_from_this(), i](const error_code& e, tcp::socket s) {
      if (self->closed || e == asio::error::operation_aborted) return;
      if (!e) {
        rt::set_cloexec(s.native_handle());
        auto c = std::make_shared<TcpConn>(std::move(s), self->io);
        self->conns.remove_if([](const std::weak_ptr<TcpConn>& w) { return w.expired(); });
        self->conns.push_back(c);
        c->start(self->backends, static_cast<uint16_t>(i));
      }
      self->accept(i);
    });
  }

  void receive(size_t i) {
    udp_listeners[i]->async_receive_from(asio::buffer(udp_buf), udp_from,
                                         [self = shared_from_this(), i](const error_code& e, size_t n) {
                                           if (self->closed || e == asio::error::operation_aborted) return;
                                           if (!e) self->datagram(i, n);
                                           self->receive(i);
                                         });
  }

  void datagram(size_t i, size_t n) {
    auto& table = sessions[i];
    auto it = table.find(udp_from);
    if (it == table.end()) {
      auto b = backends->pick();
      if (!b) return;  // no replica: dropped, as with no DNAT rule
      error_code ec;
      auto addr = asio::ip::make_address_v4(b->ip, ec);
      if (ec) return;
      auto s = std::make_shared<UdpSession>(io);
      s->client = udp_from;
      s->backend = *b;
      s->sock.open(udp::v4(), ec);
      rt::set_cloexec(s->sock.native_handle());
      if (!ec) s->sock.connect(udp::endpoint(addr, static_cast<uint16_t>(b->port + i)), ec);
      if (ec) return;
      it = table.emplace(udp_from, s).first;
      reply_loop(i, s);
    }
    it->second->last_active = std::chrono::steady_clock::now();
    error_code ec;
    it->second->sock.send(asio::buffer(udp_buf.data(), n), 0, ec);
  }

  void reply_loop(size_t i, std::shared_ptr<UdpSession> s) {
    s->sock.async_receive(asio::buffer(s->buf), [self = shared_from_this(), i, s](const error_code& e, size_t n) {
      if (self->closed || e) return;
      s->last_active = std::chrono::steady_clock::now();
      error_code ec;
      self->udp_listeners[i]->send_to(asio::buffer(s->buf.data(), n), s->client, 0, ec);
      self->reply_loop(i, s);
    });
  }

  void expire_idle() {
    idle_timer.expires_after(std::chrono::seconds(10));
    idle_timer.async_wait([self = shared_from_this()](const error_code& e) {
      if (e || self->closed) return;
      auto now = std::chrono::steady_clock::now();
      for (auto& table : self->sessions)
        for (auto it = table.begin(); it != table.end();) {
          if (now - it->second->last_active > kUdpIdle) {
            error_code ec;
            it->second->sock.close(ec);
            it = table.erase(it);
          } else {
            ++it;
          }
        }
      self->expire_idle();
    });
  }

  // Io thread only. UDP clients of removed backends start over with the
  // next datagram (what the conntrack flush does for DNAT'd UDP).
  void drop_sessions_not_in(const std::vector<Backend>& list) {
    for (auto& table : sessions)
      for (auto it = table.begin(); it != table.end();) {
        const Backend& b = it->second->backend;
        bool kept = std::any_of(list.begin(), list.end(), [&](const Backend& n) { return n.ip == b.ip && n.port == b.port; });
        if (kept) {
          ++it;
          continue;
        }
        error_code ec;
        it->second->sock.close(ec);
        it = table.erase(it);
      }
  }

  // Io thread only.
  void close() {
    closed = true;
    error_code ec;
    for (auto& a : acceptors) a->close(ec);
    for (auto& u : udp_listeners) u->close(ec);
    for (auto& w : conns)
      if (auto c = w.lock()) c->close();
    for (auto& table : sessions)
      for (auto& [_, s] : table) s->sock.close(ec);
    sessions.clear();
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
  impl_->thread = std::thread([io = &impl_->io] { io->run(); });
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

rt::Result<void> PortProxy::add(const PortMapping& m) {
  const std::string tag = mapping_tag(m);
  const std::string what = "publish " + tag;
  error_code ec;
  auto addr = asio::ip::make_address_v6(m.host_ip, ec);
  if (ec) return rt::fail(what + ": host ip '" + m.host_ip + "' is not an IPv6 address", EINVAL);
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->mappings.count(tag)) return rt::fail(what + ": already published", EEXIST);
  }
  auto map = std::make_shared<Mapping>(impl_->io);
  map->spec = m;
  map->backends->list = m.backends;
  uint16_t last = m.host_port_end ? m.host_port_end : m.host_port;
  // Bound here, in the caller's thread, so a taken port is this call's error;
  // the sockets close again on any failure (the unique_ptrs go with `map`).
  for (uint32_t p = m.host_port; p <= last; ++p) {
    auto fail = [&](const error_code& e) {
      return rt::fail(what + ": bind [" + m.host_ip + "]:" + std::to_string(p) + "/" + m.protocol + ": " + e.message(),
                      e.value());
    };
    if (m.protocol == "udp") {
      auto s = std::make_unique<udp::socket>(impl_->io);
      s->open(udp::v6(), ec);
      rt::set_cloexec(s->native_handle());
      if (!ec) s->set_option(asio::ip::v6_only(true), ec);
      if (!ec) s->bind(udp::endpoint(addr, static_cast<uint16_t>(p)), ec);
      if (ec) return fail(ec);
      map->udp_listeners.push_back(std::move(s));
    } else {
      auto a = std::make_unique<tcp::acceptor>(impl_->io);
      a->open(tcp::v6(), ec);
      rt::set_cloexec(a->native_handle());
      if (!ec) a->set_option(asio::ip::v6_only(true), ec);
      if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);  // as servers do: TIME_WAIT is no conflict
      if (!ec) a->bind(tcp::endpoint(addr, static_cast<uint16_t>(p)), ec);
      if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) return fail(ec);
      map->acceptors.push_back(std::move(a));
    }
  }
  map->sessions.resize(map->udp_listeners.size());
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->mappings.emplace(tag, map).second) return rt::fail(what + ": already published", EEXIST);
  }
  asio::post(impl_->io, [map] {
    for (size_t i = 0; i < map->acceptors.size(); ++i) map->accept(i);
    for (size_t i = 0; i < map->udp_listeners.size(); ++i) map->receive(i);
    if (!map->udp_listeners.empty()) map->expire_idle();
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
  if (!map->udp_listeners.empty())
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
