// shim.sock: a tiny line protocol for the daemon to talk to a running shim
// after it re-attached (it may have restarted since it spawned the shim).
// One request line per connection, one reply line, then the shim closes:
//   "state"      -> {"id":..,"pid":..,"status":"running"|"exited",...}
//   "kill SIG"   -> "ok" or "error <message>"   (signals the container init)
// Anything else gets "error unknown command". The socket is 0600 (root: the
// daemon); the shim serves it from its single-threaded loop, so clients are
// few and short-lived: at most kMaxClients at once, each limited to one
// kMaxRequest-byte line, replies sent without blocking.
#pragma once

#include <poll.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "runtime/shim/private_socket.h"

namespace stack::shim {

class ControlServer {
 public:
  static constexpr size_t kMaxClients = 4;
  static constexpr size_t kMaxRequest = 256;
  using Handler = std::function<std::string(std::string_view request)>;

  ControlServer() = default;
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds and listens at `path` (an old socket file there is replaced).
  stack::Result<> listen(const std::string& path, Handler handler);
  bool active() const { return listener_.active(); }
  // Adds the listener and every client to `fds` (for one poll round).
  void add_poll_fds(std::vector<struct pollfd>& fds) const;
  // Serves whatever `fds` (filled by add_poll_fds, polled) reports.
  void handle(const std::vector<struct pollfd>& fds);
  // Stops listening and unlinks the socket file.
  void close();

 private:
  struct Client {
    stack::UniqueFd fd;
    std::string request;
  };
  void accept_clients();
  // Returns false when the client is done (answered or broken).
  bool serve(Client& c);

  PrivateListener listener_;
  Handler handler_;
  std::vector<Client> clients_;
};

}  // namespace stack::shim
