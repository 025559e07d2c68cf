// The shim's listening sockets (shim.sock, attach.sock): root's only, so
// the daemon (root) is their sole client. Bound with mode 0600 through the
// umask, since a chmod after bind would leave a window.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/fd.h"

namespace stack::shim {

// A non-blocking, close-on-exec AF_UNIX listener, its socket file unlinked
// when it closes (or is destroyed).
class PrivateListener {
 public:
  PrivateListener() = default;
  ~PrivateListener() { close(); }
  PrivateListener(const PrivateListener&) = delete;
  PrivateListener& operator=(const PrivateListener&) = delete;

  // Binds and listens at `path` (an old socket file there is replaced).
  stack::Result<> listen(const std::string& path);
  bool active() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  void close();
  // Every connection waiting, non-blocking and close-on-exec: to `take`
  // while `room()` says the caller has room for one more client, else
  // answered with `busy` and closed.
  void accept_pending(const std::function<bool()>& room, std::string_view busy,
                      const std::function<void(stack::UniqueFd)>& take);

 private:
  stack::UniqueFd fd_;
  std::string path_;
};

}  // namespace stack::shim
