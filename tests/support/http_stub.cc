#include "tests/support/http_stub.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>

#include "base/io.h"

namespace stack::test {

namespace {

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    default: return "Status";
  }
}

}  // namespace

HttpStub::HttpStub() {
  listen_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int p[2];
  if (!listen_ || ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_.get(), 16) != 0 ||
      ::getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0 || ::pipe2(p, O_CLOEXEC) != 0)
    return;
  stop_r_.reset(p[0]);
  stop_w_.reset(p[1]);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

HttpStub::~HttpStub() {
  if (thread_.joinable()) {
    (void)!::write(stop_w_.get(), "x", 1);
    thread_.join();
  }
}

void HttpStub::set(const std::string& path, Response response) {
  std::lock_guard lock(mu_);
  routes_[path] = std::move(response);
}

std::vector<std::string> HttpStub::requests() const {
  std::lock_guard lock(mu_);
  return seen_;
}

void HttpStub::serve() {
  for (;;) {
    pollfd fds[2] = {{listen_.get(), POLLIN, 0}, {stop_r_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    stack::UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (conn) answer(conn.get());
  }
}

void HttpStub::answer(int conn) {
  // A client that stops sending must not wedge the only serving thread.
  timeval tv{5, 0};
  ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string in;
  char buf[4096];
  while (in.find("\r\n\r\n") == std::string::npos && in.size() < (64u << 10)) {
    ssize_t n = ::recv(conn, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    in.append(buf, static_cast<size_t>(n));
    // A TLS handshake starts with a non-letter byte: not for us.
    if (!std::isupper(static_cast<unsigned char>(in[0]))) return;
  }
  std::string line = in.substr(0, in.find("\r\n"));
  size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos || line.compare(sp2 + 1, 5, "HTTP/") != 0) return;
  std::string method = line.substr(0, sp1);
  std::string path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  path = path.substr(0, path.find('?'));
  Response r;
  {
    std::lock_guard lock(mu_);
    seen_.push_back(method + " " + path);
    auto it = routes_.find(path);
    if (it != routes_.end()) {
      r = it->second;
    } else {
      r.status = 404;
      r.headers = {{"Content-Type", "application/json"}};
      r.body = R"({"errors":[{"code":"NOT_FOUND","message":"not served by the stub"}]})";
    }
  }
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
  if (method != "HEAD") out += r.body;
  (void)io::write_all(conn, out);
}

}  // namespace stack::test
