#include "runtime/shim/private_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace stack::shim {

stack::Result<> PrivateListener::listen(const std::string& path) {
  struct sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return stack::fail("socket path " + path + " is longer than " + std::to_string(sizeof addr.sun_path - 1) +
                           " bytes",
                       ENAMETOOLONG);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  stack::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return stack::fail_errno("socket");
  ::unlink(path.c_str());
  mode_t old = ::umask(0177);
  int b = ::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  int e = errno;
  ::umask(old);
  if (b != 0) return stack::fail("bind " + path, e);
  if (::listen(fd.get(), 8) != 0) return stack::fail_errno("listen " + path);
  fd_ = std::move(fd);
  path_ = path;
  return {};
}

void PrivateListener::close() {
  if (!fd_) return;
  fd_.reset();
  ::unlink(path_.c_str());
}

void PrivateListener::accept_pending(const std::function<bool()>& room, std::string_view busy,
                                     const std::function<void(stack::UniqueFd)>& take) {
  for (;;) {
    int fd = ::accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a client that went away
    stack::UniqueFd client(fd);
    if (!room()) {
      (void)::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      continue;  // closed on scope exit
    }
    take(std::move(client));
  }
}

}  // namespace stack::shim
