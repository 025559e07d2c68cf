#include "orchestrator/cli/client.h"

#include "base/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace stack::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;
using nlohmann::json;
using stack::fail;
using stack::Result;

namespace {

Result<stack::UniqueFd> connect_stackd(const std::string& path) {
  auto s = stack::connect_unix(path);
  if (!s) return tl::unexpected(stack::Error{s.error().code, "cannot reach stackd at " + path});
  return s;
}

// stackd next to this executable (a build tree or an install), else PATH.
std::string stackd_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto p = self.parent_path() / "stackd";
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "stackd";
}

// Starts stackd detached from us (double fork + setsid: it outlives this
// CLI and is never our zombie), stdio to <root>/stackd.log.
Result<void> spawn_daemon(const std::string& root, const std::string& socket) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  std::string log = root + "/stackd.log";
  std::string exe = stackd_path();
  pid_t pid = ::fork();
  if (pid < 0) return stack::fail_errno("fork");
  if (pid == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execlp(exe.c_str(), exe.c_str(), "--foreground", "--root", root.c_str(), "--socket", socket.c_str(),
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {};
}

std::string error_of(int status, const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  return "stackd answered " + std::to_string(status) + (body.empty() ? "" : ": " + body);
}

http::request<http::string_body> make_request(http::verb method, const std::string& target, const json& body) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "stackd");
  req.set(http::field::user_agent, "stack-cli");
  if (!body.is_null()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body.dump();
  }
  req.prepare_payload();
  return req;
}

// Connects `sock` to stackd at `path` and sends `req`.
Result<void> connect_and_send(local::socket& sock, const std::string& path,
                              const http::request<http::string_body>& req) {
  auto fd = connect_stackd(path);
  if (!fd) return tl::unexpected(fd.error());
  sock.assign(local(), fd->release());
  beast::error_code ec;
  http::write(sock, req, ec);
  if (ec) return fail("send to stackd: " + ec.message());
  return {};
}

}  // namespace

std::string url_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

void StreamCancel::attach(int fd) {
  std::lock_guard lock(mu_);
  fd_ = fd;
  if (cancelled_) ::shutdown(fd_, SHUT_RDWR);
}

void StreamCancel::detach() {
  std::lock_guard lock(mu_);
  fd_ = -1;
}

void StreamCancel::cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

Result<std::pair<std::string, bool>> resolve_socket(const ClientOptions& options) {
  std::string host = options.host;
  if (host.empty())
    if (const char* env = std::getenv("STACK_HOST"); env && *env) host = env;
  if (host.empty()) return std::make_pair(std::string(kDefaultSocket), true);
  if (host.rfind("unix://", 0) != 0 || host.size() <= 7)
    return fail("--host " + host + ": expected unix:///path/to/stackd.sock");
  return std::make_pair(host.substr(7), host.substr(7) == kDefaultSocket);
}

Result<ApiClient> ApiClient::connect(const ClientOptions& options) {
  auto sock = resolve_socket(options);
  if (!sock) return tl::unexpected(sock.error());
  auto [path, is_default] = *sock;
  auto first = connect_stackd(path);
  if (first) return ApiClient(path);
  if (!is_default || (first.error().code != ENOENT && first.error().code != ECONNREFUSED))
    return tl::unexpected(first.error());
  STACK_TRY_CTX(spawn_daemon(options.root, path), "start stackd");
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (connect_stackd(path)) return ApiClient(path);
  }
  return fail("started stackd, but it does not answer on " + path + " (see " + options.root + "/stackd.log)");
}

Result<json> ApiClient::call(const std::string& method, const std::string& target, const json& body) const {
  asio::io_context io;
  local::socket sock(io);
  STACK_TRY(connect_and_send(sock, socket_, make_request(http::string_to_verb(method), target, body)));
  beast::error_code ec;
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u << 20);
  http::read(sock, buf, parser, ec);
  if (ec) return fail("read from stackd: " + ec.message());
  auto& res = parser.get();
  int status = static_cast<int>(res.result_int());
  if (status / 100 != 2) return fail(error_of(status, res.body()));
  if (res.body().empty()) return json::object();
  auto j = json::parse(res.body(), nullptr, false);
  if (j.is_discarded()) return fail("stackd sent a reply that is not JSON");
  return j;
}

Result<void> ApiClient::stream(const std::string& target, const std::function<void()>& on_open,
                               const std::function<bool(const json&)>& on_line, StreamCancel* cancel) const {
  return stream_request("GET", target, on_open, on_line, cancel);
}

Result<void> ApiClient::post_stream(const std::string& target, const std::function<bool(const json&)>& on_line) const {
  return stream_request("POST", target, nullptr, on_line, nullptr);
}

Result<void> ApiClient::stream_request(const std::string& method, const std::string& target,
                                       const std::function<void()>& on_open,
                                       const std::function<bool(const json&)>& on_line, StreamCancel* cancel) const {
  asio::io_context io;
  local::socket sock(io);
  STACK_TRY(connect_and_send(sock, socket_, make_request(http::string_to_verb(method), target, nullptr)));
  beast::error_code ec;
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  http::read_header(sock, buf, parser, ec);
  if (ec) return fail("read from stackd: " + ec.message());
  int status = static_cast<int>(parser.get().result_int());
  if (status != 200) {
    http::read(sock, buf, parser, ec);
    return fail(error_of(status, parser.get().body()));
  }
  if (on_open) on_open();
  std::string partial;
  std::string stream_error;
  bool stopped = false;
  // Lines may span chunks: keep the tail until its newline arrives.
  auto on_chunk = [&](std::uint64_t, boost::string_view data, beast::error_code& cec) -> std::size_t {
    partial.append(data.data(), data.size());
    size_t nl;
    while (!stopped && (nl = partial.find('\n')) != std::string::npos) {
      auto line = partial.substr(0, nl);
      partial.erase(0, nl + 1);
      auto j = json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      if (j.is_object() && j.size() == 1 && j.contains("error")) {
        stream_error = j["error"].get<std::string>();
        continue;
      }
      if (!on_line(j)) stopped = true;
    }
    if (stopped) cec = asio::error::operation_aborted;
    return data.size();
  };
  parser.on_chunk_body(on_chunk);
  if (cancel) cancel->attach(sock.native_handle());
  http::read(sock, buf, parser, ec);
  if (cancel) {
    cancel->detach();
    if (cancel->cancelled()) return {};
  }
  if (!stream_error.empty()) return fail(stream_error);
  if (ec && !stopped) return fail("stream from stackd: " + ec.message());
  return {};
}

Result<json> ApiClient::upload(const std::string& target, int fd) const {
  asio::io_context io;
  local::socket sock(io);
  auto conn = connect_stackd(socket_);
  if (!conn) return tl::unexpected(conn.error());
  sock.assign(local(), conn->release());
  http::request<http::empty_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "stackd");
  req.set(http::field::user_agent, "stack-cli");
  req.set(http::field::content_type, "application/x-tar");
  req.chunked(true);  // the length is unknown for stdin or a tar being made
  http::request_serializer<http::empty_body> sr{req};
  beast::error_code ec;
  http::write_header(sock, sr, ec);
  std::string send_error = ec ? ec.message() : "";
  std::vector<char> chunk(256 * 1024);
  while (send_error.empty()) {
    ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    // Abort without the last chunk: stackd sees a truncated body and keeps nothing.
    if (n < 0) return stack::fail_errno("read the archive");
    if (n == 0) {
      asio::write(sock, http::make_chunk_last(), ec);
      if (ec) send_error = ec.message();
      break;
    }
    asio::write(sock, http::make_chunk(asio::buffer(chunk.data(), static_cast<size_t>(n))), ec);
    if (ec) send_error = ec.message();
  }
  // A daemon that refuses (403) answers without reading the body and
  // closes: the write fails, but its reply says why.
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u << 20);
  http::read(sock, buf, parser, ec);
  if (ec) return fail(send_error.empty() ? "read from stackd: " + ec.message() : "send to stackd: " + send_error);
  auto& res = parser.get();
  int status = static_cast<int>(res.result_int());
  if (status / 100 != 2) return fail(error_of(status, res.body()));
  auto j = json::parse(res.body(), nullptr, false);
  if (j.is_discarded()) return fail("stackd sent a reply that is not JSON");
  return j;
}

Result<Upgraded> ApiClient::upgrade(const std::string& target, const json& body) const {
  asio::io_context io;
  local::socket sock(io);
  auto req = make_request(http::verb::post, target, body);
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "stack-stream");
  STACK_TRY(connect_and_send(sock, socket_, req));
  beast::error_code ec;
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  http::read(sock, buf, parser, ec);
  if (ec) return fail("read from stackd: " + ec.message());
  int status = static_cast<int>(parser.get().result_int());
  if (status != 101) return fail(error_of(status, parser.get().body()));
  Upgraded u;
  u.pending.assign(static_cast<const char*>(buf.data().data()), buf.size());
  u.fd.reset(::dup(sock.native_handle()));
  if (!u.fd) return stack::fail_errno("dup");
  ::fcntl(u.fd.get(), F_SETFD, FD_CLOEXEC);
  return u;
}

}  // namespace stack::cli
