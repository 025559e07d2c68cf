#include "orchestrator/daemon/cluster/peer_server.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "orchestrator/cluster/openssl_handles.h"
#include "orchestrator/daemon/cluster/leader_forward.h"
#include "orchestrator/daemon/cluster/peer_client.h"
#include "orchestrator/daemon/cluster/tls_relay.h"
#include "orchestrator/daemon/server/exec_relay.h"
#include "base/fd.h"
#include "base/io.h"
#include "base/unix_socket.h"

#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <set>
#include <sstream>

namespace stack::orch {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kBodyLimit = 64 * 1024;
constexpr int kSocketTimeoutSeconds = 10;
constexpr size_t kMaxConnections = 64;  // relayed streams (events, logs -f) hold one each

void set_timeouts(int fd) {
  timeval tv{kSocketTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// The PEM of the certificate the client showed; "" when none.
std::string peer_cert_pem(SSL* ssl) {
  cluster::ossl::Cert cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return "";
  auto pem = cluster::ossl::cert_to_pem(cert.get());
  return pem ? *pem : "";
}

}  // namespace

struct PeerServer::Impl {
  asio::io_context io;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  Handler handler;
  ExecHandler exec_handler;
  std::string ca_pem;
  std::string api_socket;  // "" = no stack requests relayed here
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::mutex mu;  // guards what follows
  std::condition_variable idle;  // open_fds became empty
  std::set<int> open_fds;        // one per connection thread (detached; counted here)

  void serve(tcp::socket socket) {
    int fd = socket.native_handle();
    set_timeouts(fd);
    try {
      TlsStream stream(std::move(socket), tls);
      stream.handshake(ssl::stream_base::server);
      boost::beast::flat_buffer buffer;
      http::request_parser<http::empty_body> head;
      http::read_header(stream, buffer, head);
      std::optional<cluster::CertIdentity> peer;
      if (std::string pem = peer_cert_pem(stream.native_handle()); !pem.empty())
        if (auto who = cluster::verify_node_cert(ca_pem, pem)) peer = *who;
      std::string path(head.get().target());
      path = path.substr(0, path.find('?'));
      if (!api_socket.empty() && is_leader_route(path)) {
        hand_to_api(stream, buffer, head.get(), peer);
        boost::system::error_code ec;
        stream.shutdown(ec);
        finish(fd);
        return;
      }
      http::request_parser<http::string_body> parser(std::move(head));
      parser.body_limit(kBodyLimit);
      http::read(stream, buffer, parser);
      const auto& req = parser.get();
      PeerRequest request{std::string(req.method_string()), std::string(req.target()), req.body(), peer};
      if (req[http::field::upgrade] == "stack-stream") {
        serve_exec(stream, buffer, request);
        boost::system::error_code ec;
        stream.shutdown(ec);
        finish(fd);
        return;
      }
      PeerReply reply = handler(request);
      http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
      res.set(http::field::content_type, "application/json");
      res.keep_alive(false);
      res.body() = std::move(reply.body);
      res.prepare_payload();
      http::write(stream, res);
      boost::system::error_code ec;
      stream.shutdown(ec);
      if (reply.after) reply.after();
    } catch (const std::exception& e) {
      spdlog::debug("cluster endpoint: connection: {}", e.what());
    }
    finish(fd);
  }

  void finish(int fd) {
    std::lock_guard lock(mu);
    open_fds.erase(fd);
    if (open_fds.empty()) idle.notify_all();
  }

  static void write_error(TlsStream& stream, http::status status, const std::string& message) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = nlohmann::json{{"error", message}}.dump();
    res.prepare_payload();
    boost::system::error_code ec;
    http::write(stream, res, ec);
  }

  // An exec: its frames relayed between the TLS stream and relay_frames()
  // over a socket pair (relay_frames speaks to a plain socket), the frames'
  // relay on a thread of its own; whichever side ends first ends the other.
  void serve_exec(TlsStream& stream, boost::beast::flat_buffer& buffer, const PeerRequest& request) {
    auto session = exec_handler(request);
    if (!session)
      return write_error(stream, static_cast<http::status>(peer_http_status(session.error().code)),
                         session.error().message());
    http::response<http::empty_body> res{http::status::switching_protocols, 11};
    res.set(http::field::connection, "Upgrade");
    res.set(http::field::upgrade, "stack-stream");
    boost::system::error_code ec;
    http::write(stream, res, ec);
    if (ec) return;
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) return;
    UniqueFd ours(pair[0]), frames_end(pair[1]);
    clear_socket_timeouts(stream.lowest_layer().native_handle());
    stream.lowest_layer().set_option(tcp::no_delay(true), ec);
    std::string pending(static_cast<const char*>(buffer.data().data()), buffer.size());
    buffer.consume(buffer.size());
    std::thread frames([&] {
      relay_frames(frames_end.get(), **session, std::move(pending), stopping);
      ::shutdown(frames_end.get(), SHUT_RDWR);  // the exit frame is out: the relay below ends
    });
    relay_tls(stream, ours.get(), &stopping);
    ::shutdown(ours.get(), SHUT_RDWR);  // the leader went: relay_frames sees its client gone
    frames.join();
  }

  // A manager's stack request (leader_forward.h): the rest of the
  // connection goes to this stackd's own API socket, byte for byte.
  void hand_to_api(TlsStream& stream, boost::beast::flat_buffer& buffer, const http::request_header<>& msg,
                   const std::optional<cluster::CertIdentity>& peer) {
    auto refuse = [&](http::status status, const std::string& message) { write_error(stream, status, message); };
    if (!peer || peer->role != cluster::Role::Manager)
      return refuse(http::status::forbidden, "only a manager of this cluster may forward stack requests");
    auto local = stack::connect_unix(api_socket);
    if (!local) return refuse(http::status::service_unavailable, local.error().message());
    clear_socket_timeouts(stream.lowest_layer().native_handle());
    boost::system::error_code nodelay;
    stream.lowest_layer().set_option(tcp::no_delay(true), nodelay);  // a stream's last small chunk goes at once
    std::ostringstream head;
    head << msg;
    std::string bytes = head.str();
    bytes.append(static_cast<const char*>(buffer.data().data()), buffer.size());
    buffer.consume(buffer.size());
    if (!io::write_all(local->get(), bytes, "api socket")) return;
    spdlog::debug("cluster endpoint: {} {} relayed for manager {}", std::string(msg.method_string()),
                  std::string(msg.target()), peer->node_id);
    relay_tls(stream, local->get(), &stopping);
  }

  void accept_loop() {
    while (!stopping) {
      boost::system::error_code ec;
      tcp::socket socket(io);
      acceptor.accept(socket, ec);
      if (ec) {
        if (stopping) return;
        continue;
      }
      std::lock_guard lock(mu);
      if (open_fds.size() >= kMaxConnections) continue;  // dropped: the socket closes
      open_fds.insert(socket.native_handle());
      std::thread([this, s = std::move(socket)]() mutable { serve(std::move(s)); }).detach();
    }
  }
};

PeerServer::PeerServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

stack::Result<std::unique_ptr<PeerServer>> PeerServer::start(const std::string& addr, int port,
                                                             const std::string& cert_file, const std::string& key_file,
                                                             const std::string& ca_file, const std::string& api_socket,
                                                             Handler handler, ExecHandler exec_handler) {
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->exec_handler = std::move(exec_handler);
  impl->api_socket = api_socket;
  {
    std::ifstream in(ca_file);
    std::stringstream text;
    text << in.rdbuf();
    impl->ca_pem = text.str();
    if (impl->ca_pem.empty()) return stack::fail("cluster endpoint: cannot read the CA " + ca_file, ENOENT);
  }
  const std::string where = addr + ":" + std::to_string(port);
  try {
    impl->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                          ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    impl->tls.use_certificate_chain_file(cert_file);
    impl->tls.use_private_key_file(key_file, ssl::context::pem);
    // Ask for a client certificate without requiring one (a joining node
    // has none yet); one that is shown must chain to the cluster's CA.
    impl->tls.load_verify_file(ca_file);
    impl->tls.set_verify_mode(ssl::verify_peer);
    tcp::endpoint ep(asio::ip::make_address(addr), static_cast<unsigned short>(port));
    impl->acceptor.open(ep.protocol());
    impl->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl->acceptor.bind(ep);
    impl->acceptor.listen();
  } catch (const boost::system::system_error& e) {
    return stack::fail("cluster endpoint on " + where + ": " + e.code().message(), e.code().value());
  } catch (const std::exception& e) {
    return stack::fail("cluster endpoint on " + where + ": " + e.what());
  }
  auto* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->accept_loop(); });
  spdlog::info("cluster: endpoint on {}", where);
  return std::unique_ptr<PeerServer>(new PeerServer(std::move(impl)));
}

PeerServer::~PeerServer() {
  impl_->stopping = true;
  // shutdown() wakes the accept() blocked on this socket (close alone would not).
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::unique_lock lock(impl_->mu);
  for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
  impl_->idle.wait(lock, [&] { return impl_->open_fds.empty(); });
}

}  // namespace stack::orch
