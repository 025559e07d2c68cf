#include "orchestrator/daemon/server/api_server.h"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <list>
#include <sstream>
#include <mutex>
#include <thread>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "orchestrator/daemon/server/authz_policy_file.h"
#include "orchestrator/daemon/server/authz_request.h"
#include "orchestrator/api/framing.h"
#include "orchestrator/daemon/server/exec_relay.h"
#include "orchestrator/daemon/server/image_routes.h"
#include "orchestrator/daemon/server/upload_spool.h"
#include "base/fd.h"

namespace stack::orch {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

namespace {

// One accepted client. The thread that runs it owns the socket; stop()
// (another thread) only sets `cancel` and shuts the socket down to unblock it.
struct Connection : ApiResponder {
  Connection(asio::io_context& io, int fd, Engine& engine, const ServerInfo& info, bool allowed, std::string who,
             bool root, const AuthzPolicy& authz, const PathResolver& resolve)
      : sock(io), engine(engine), info(info), allowed(allowed), who(std::move(who)), root(root), authz(authz),
        resolve(resolve) {
    sock.assign(local(), fd);
  }

  local::socket sock;
  Engine& engine;
  const ServerInfo& info;
  bool allowed;
  std::string who;
  bool root;                   // SO_PEERCRED uid 0: the policy does not apply
  const AuthzPolicy& authz;    // owned by the server
  const PathResolver& resolve;
  beast::flat_buffer buf;
  std::atomic<bool> cancel{false};
  std::atomic<bool> done{false};
  bool keep_alive = true;
  bool streaming = false;
  bool upgraded = false;
  std::thread watcher;  // while streaming: notices the client hanging up

  int fd() { return sock.native_handle(); }

  void run() {
    for (;;) {
      // The header first: an upload's body (image_routes.h) goes to a file,
      // every other body into memory (64 MiB at most).
      http::request_parser<http::empty_body> head;
      beast::error_code ec;
      http::read_header(sock, buf, head, ec);
      if (ec) break;  // closed, or not HTTP: nothing to answer
      auto& msg = head.get();
      keep_alive = msg.keep_alive();
      if (!allowed) {
        reply(403, R"({"error":"permission denied: )" + who + R"( is not root or in stackd's group"})");
        break;
      }
      ApiRequest req;
      req.method = std::string(msg.method_string());
      parse_target(std::string(msg.target()), req.path, req.query);
      std::string conn_hdr(msg[http::field::connection]);
      for (auto& c : conn_hdr) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.upgrade = conn_hdr.find("upgrade") != std::string::npos && msg[http::field::upgrade] == "stack-stream";
      spdlog::debug("api: {} {}", req.method, std::string(msg.target()));
      if (info.forwarder && info.forwarder->wants(req.path)) {
        forward_to_leader(msg);
        break;
      }
      bool upload = is_upload_route(req.method, req.path);
      if (!upload) {
        http::request_parser<http::string_body> parser(std::move(head));
        parser.body_limit(64u << 20);
        http::read(sock, buf, parser, ec);
        if (ec) break;
        req.body = std::move(parser.get().body());
      } else {
        keep_alive = false;  // a refused upload's body is never read: end the connection after the reply
      }
      if (!root) {
        auto verdict = authorize_request(authz, engine, req, resolve);
        if (!verdict) {
          std::string message = denial_message(authz, verdict.error());
          spdlog::warn("api: {}: {} {}: {}", who, req.method, req.path, message);
          // The message may quote the request's path, which need not be
          // UTF-8: replace bad bytes rather than throw out of this thread.
          reply(403, nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                              nlohmann::json::error_handler_t::replace));
          if (!keep_alive || cancel) break;
          continue;
        }
      }
      // Authorized uploads only: a refused one costs no disk.
      SpooledBody spooled;
      if (upload) {
        auto body = spool_body(sock, buf, std::move(head), info.root + "/tmp");
        if (!body) {
          spdlog::warn("api: {} {}: {}", req.method, req.path, body.error().message());
          reply(body.error().code == EIO ? 400 : 500,
                nlohmann::json{{"error", body.error().message()}}.dump());
          break;
        }
        spooled = std::move(*body);
        req.body_file = spooled.path();
      }
      handle_request(engine, info, req, *this);
      if (streaming) end_stream();
      if (streaming || upgraded || !keep_alive || cancel) break;
    }
    // Shut down but keep the fd open until the server joins this thread and
    // destroys the connection: stop() may still shutdown() it meanwhile.
    beast::error_code ignored;
    sock.shutdown(local::socket::shutdown_both, ignored);
    done = true;
  }

  // A manager that does not lead: the rest of this connection is the
  // leader's (daemon/cluster/leader_forward.h), root's requests only.
  void forward_to_leader(const http::request_header<>& msg) {
    keep_alive = false;
    if (!root) {
      reply(503, nlohmann::json{{"error", "this manager does not lead the cluster and forwards only root's requests: "
                                          "run it on the leader (`stack node ls`)"}}
                     .dump());
      return;
    }
    std::ostringstream head;
    head << msg;
    std::string bytes = head.str();
    bytes.append(static_cast<const char*>(buf.data().data()), buf.size());
    buf.consume(buf.size());
    if (auto r = info.forwarder->forward(fd(), bytes, cancel); !r)
      reply(502, nlohmann::json{{"error", r.error().message()}}.dump());
  }

  void reply(int status, const std::string& json_body) override {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, "stackd");
    res.set(http::field::content_type, "application/json");
    res.keep_alive(keep_alive);
    res.body() = json_body + "\n";
    res.prepare_payload();
    beast::error_code ec;
    http::write(sock, res, ec);
    if (ec) keep_alive = false;
  }

  void start_stream() override {
    streaming = true;
    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::server, "stackd");
    res.set(http::field::content_type, "application/x-ndjson");
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    beast::error_code ec;
    http::write_header(sock, sr, ec);
    if (ec) cancel = true;
    int sfd = fd();
    watcher = std::thread([this, sfd] {
      while (!cancel) {
        pollfd p{sfd, POLLRDHUP, 0};
        if (::poll(&p, 1, 200) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) cancel = true;
      }
    });
  }

  bool write_line(const std::string& json_line) override {
    if (cancel) return false;
    std::string line = json_line + "\n";
    beast::error_code ec;
    asio::write(sock, http::make_chunk(asio::buffer(line)), ec);
    if (ec) cancel = true;
    return !cancel;
  }

  void end_stream() {
    if (!cancel) {
      beast::error_code ec;
      asio::write(sock, http::make_chunk_last(), ec);
    }
    cancel = true;
    if (watcher.joinable()) watcher.join();
  }

  const std::atomic<bool>& cancelled() override { return cancel; }

  void relay(ExecSession& session) override {
    upgraded = true;
    http::response<http::empty_body> res{http::status::switching_protocols, 11};
    res.set(http::field::connection, "Upgrade");
    res.set(http::field::upgrade, "stack-stream");
    beast::error_code ec;
    http::write(sock, res, ec);
    std::string pending(static_cast<const char*>(buf.data().data()), buf.size());
    buf.consume(buf.size());
    if (ec) {
      session.close_stdin();
      (void)session.wait();
      return;
    }
    relay_frames(fd(), session, std::move(pending), cancel);
  }
};

class Server final : public ApiServer {
 public:
  Server(ApiServerOptions o, Engine& e) : options_(std::move(o)), engine_(e) {
    if (!options_.authz) options_.authz = std::make_shared<AuthzPolicy>();
    if (!options_.resolve_path) options_.resolve_path = resolve_host_path;
  }
  ~Server() override {
    stop();
    join_all();
    if (listen_) ::unlink(options_.socket_path.c_str());
  }

  stack::Result<void> init() {
    if (!options_.group.empty()) {
      std::vector<char> gbuf(16384);
      group g{};
      group* found = nullptr;
      if (::getgrnam_r(options_.group.c_str(), &g, gbuf.data(), gbuf.size(), &found) != 0 || !found)
        return stack::fail("--group " + options_.group + ": no such group");
      gid_ = found->gr_gid;
    }
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(options_.socket_path).parent_path(), ec);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (options_.socket_path.size() >= sizeof(addr.sun_path))
      return stack::fail("socket path too long: " + options_.socket_path);
    std::memcpy(addr.sun_path, options_.socket_path.c_str(), options_.socket_path.size() + 1);
    stack::UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) return stack::fail_errno("socket");
    ::unlink(options_.socket_path.c_str());  // stale: the caller holds the daemon lock
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0)
      return stack::fail_errno("bind " + options_.socket_path);
    if (::chmod(options_.socket_path.c_str(), 0660) < 0) return stack::fail_errno("chmod " + options_.socket_path);
    if (gid_ && ::chown(options_.socket_path.c_str(), 0, *gid_) < 0)
      return stack::fail_errno("chown " + options_.socket_path);
    if (::listen(s.get(), 128) < 0) return stack::fail_errno("listen " + options_.socket_path);
    if (::pipe2(wake_, O_CLOEXEC) < 0) return stack::fail_errno("pipe");
    wake_read_.reset(wake_[0]);
    wake_write_.reset(wake_[1]);
    listen_ = std::move(s);
    return {};
  }

  void serve() override {
    while (!stopping_) {
      pollfd p[2] = {{listen_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        spdlog::error("api: poll: {}", std::strerror(errno));
        break;
      }
      if (stopping_ || (p[1].revents & POLLIN)) break;
      int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      accept_one(fd);
    }
    stop();
    join_all();
  }

  void stop() override {
    bool was = stopping_.exchange(true);
    if (!was && wake_write_) (void)!::write(wake_write_.get(), "x", 1);
    std::lock_guard lock(mu_);
    for (auto& c : conns_) {
      c.conn->cancel = true;
      ::shutdown(c.conn->fd(), SHUT_RDWR);  // unblocks reads; relays see the hang-up
    }
  }

 private:
  struct Entry {
    std::unique_ptr<Connection> conn;
    std::thread thread;
  };

  // uid 0, or the peer's user is in --group (primary or supplementary).
  // `root` is set only for uid 0: everyone else goes through the policy.
  std::pair<bool, std::string> check_peer(int fd, bool& root) {
    root = false;
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return {false, "unknown peer"};
    std::string who = "uid " + std::to_string(cred.uid);
    root = cred.uid == 0;
    if (cred.uid == 0) return {true, who};
    if (!gid_) return {false, who};
    if (cred.gid == *gid_) return {true, who};
    std::vector<char> pbuf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwuid_r(cred.uid, &pw, pbuf.data(), pbuf.size(), &found) != 0 || !found) return {false, who};
    int n = 256;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    if (::getgrouplist(found->pw_name, found->pw_gid, groups.data(), &n) < 0) return {false, who};
    for (int i = 0; i < n; ++i)
      if (groups[static_cast<size_t>(i)] == *gid_) return {true, who};
    return {false, who};
  }

  void accept_one(int fd) {
    bool root = false;
    auto [allowed, who] = check_peer(fd, root);
    if (!allowed) spdlog::warn("api: refusing {}", who);
    auto conn = std::make_unique<Connection>(io_, fd, engine_, options_.info, allowed, who, root, *options_.authz,
                                             options_.resolve_path);
    std::lock_guard lock(mu_);
    reap_locked();
    Connection* raw = conn.get();
    conns_.push_back(Entry{std::move(conn), std::thread([raw] { raw->run(); })});
  }

  void reap_locked() {
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (it->conn->done) {
        it->thread.join();
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void join_all() {
    std::list<Entry> all;
    {
      std::lock_guard lock(mu_);
      all.swap(conns_);
    }
    for (auto& e : all)
      if (e.thread.joinable()) e.thread.join();
  }

  ApiServerOptions options_;
  Engine& engine_;
  std::optional<gid_t> gid_;
  asio::io_context io_;  // only for the sockets' sync operations
  stack::UniqueFd listen_;
  int wake_[2] = {-1, -1};
  stack::UniqueFd wake_read_, wake_write_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::list<Entry> conns_;
};

}  // namespace

stack::Result<std::unique_ptr<ApiServer>> ApiServer::open(const ApiServerOptions& options, Engine& engine) {
  auto s = std::make_unique<Server>(options, engine);
  STACK_TRY_CTX(s->init(), "api socket");
  return std::unique_ptr<ApiServer>(std::move(s));
}

}  // namespace stack::orch
