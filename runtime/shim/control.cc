#include "runtime/shim/control.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "runtime/shim/private_socket.h"

namespace stack::shim {

ControlServer::~ControlServer() { close(); }

stack::Result<> ControlServer::listen(const std::string& path, Handler handler) {
  if (auto l = listener_.listen(path); !l) return tl::unexpected(l.error().wrap("control socket"));
  handler_ = std::move(handler);
  return {};
}

void ControlServer::add_poll_fds(std::vector<struct pollfd>& fds) const {
  if (!listener_.active()) return;
  fds.push_back({listener_.fd(), POLLIN, 0});
  for (auto& c : clients_) fds.push_back({c.fd.get(), POLLIN, 0});
}

void ControlServer::handle(const std::vector<struct pollfd>& fds) {
  if (!listener_.active()) return;
  bool accept_ready = false;
  for (auto& p : fds) {
    if (!p.revents) continue;
    if (p.fd == listener_.fd()) {
      accept_ready = true;
      continue;
    }
    for (auto& c : clients_)
      if (c.fd.get() == p.fd && !serve(c)) c.fd.reset();
  }
  clients_.erase(std::remove_if(clients_.begin(), clients_.end(), [](const Client& c) { return !c.fd; }),
                 clients_.end());
  if (accept_ready) accept_clients();
}

void ControlServer::accept_clients() {
  listener_.accept_pending([this] { return clients_.size() < kMaxClients; }, "error busy\n",
                           [this](stack::UniqueFd client) { clients_.push_back({std::move(client), {}}); });
}

bool ControlServer::serve(Client& c) {
  char buf[kMaxRequest];
  ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n == 0 && c.request.empty()) return false;
  c.request.append(buf, static_cast<size_t>(n));
  auto nl = c.request.find('\n');
  // EOF also ends a request, so `echo -n state | socat` works.
  if (nl == std::string::npos && n > 0) {
    if (c.request.size() <= kMaxRequest) return true;
    static const char too_long[] = "error request too long\n";
    (void)::send(c.fd.get(), too_long, sizeof too_long - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    return false;
  }
  std::string_view line(c.request.data(), nl == std::string::npos ? c.request.size() : nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string reply = handler_(line);
  reply += '\n';
  // Replies are a few hundred bytes: they fit the socket buffer of a fresh
  // connection, so one non-blocking send suffices.
  (void)::send(c.fd.get(), reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return false;
}

void ControlServer::close() {
  clients_.clear();
  listener_.close();
}

}  // namespace stack::shim
