#include "orchestrator/daemon/node/attach_session.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/io.h"
#include "base/unix_socket.h"
#include "orchestrator/api/framing.h"

namespace stack::orch {
namespace {

class AttachSession final : public RelayedSession {
 public:
  AttachSession(stack::UniqueFd shim, bool forward_exit) : shim_(std::move(shim)), forward_exit_(forward_exit) {}
  // The process's stdio are the shim's.
  // After relay_client(): the exit code the shim sent, or an error when the
  // relay ended first (the client detached or went, stackd is stopping).
  stack::Result<int> wait() override {
    if (!exit_) return stack::fail("the attach ended before the process exited", ECONNRESET);
    return std::atoi(exit_->c_str());
  }
  bool relay_client(int client_fd, const std::string& pending, const std::atomic<bool>& stop) override {
    exit_ = relay_attach(shim_.get(), client_fd, pending, stop);
    if (exit_ && forward_exit_) (void)io::write_all(client_fd, encode_frame(FrameType::Exit, *exit_), "attach client");
    return true;
  }

 private:
  stack::UniqueFd shim_;
  bool forward_exit_;
  std::optional<std::string> exit_;  // the shim's Exit payload
};

}  // namespace

stack::Result<stack::UniqueFd> connect_attach(const std::string& socket_path, const std::string& what) {
  auto fd = connect_unix(socket_path);
  if (fd) return fd;
  if (fd.error().code == ENOENT || fd.error().code == ECONNREFUSED)
    return stack::fail("attach " + what + ": its shim has no attach socket (it has exited, or it predates attach)",
                       fd.error().code);
  return tl::unexpected(fd.error().wrap("attach " + what));
}

std::optional<std::string> relay_attach(int shim_fd, int client_fd, const std::string& pending,
                                        const std::atomic<bool>& stop) {
  if (!pending.empty() && !io::write_all(shim_fd, pending, "attach socket")) return std::nullopt;
  FrameDecoder from_shim;
  std::string buf(32 * 1024, '\0');
  for (;;) {
    pollfd fds[2] = {{shim_fd, POLLIN, 0}, {client_fd, POLLIN, 0}};
    // The timeout only looks at `stop` (stackd stopping) now and then.
    int n = ::poll(fds, 2, 200);
    if (n < 0 && errno != EINTR) return std::nullopt;
    if (stop) {
      (void)io::write_all(client_fd, encode_frame(FrameType::Error, "stackd is stopping"), "attach client");
      return std::nullopt;
    }
    if (n <= 0) continue;
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(client_fd, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return std::nullopt;  // the client went (detach): the process runs on
      if (!io::write_all(shim_fd, std::string_view(buf.data(), static_cast<size_t>(r)), "attach socket"))
        return std::nullopt;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(shim_fd, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return std::nullopt;  // the shim went without an exit code
      from_shim.feed(buf.data(), static_cast<size_t>(r));
      while (auto f = from_shim.next()) {
        if (f->type == FrameType::Exit) return f->payload;
        if (!io::write_all(client_fd, encode_frame(f->type, f->payload), "attach client")) return std::nullopt;
      }
      if (!from_shim.error().empty()) {
        (void)io::write_all(client_fd, encode_frame(FrameType::Error, "attach: " + from_shim.error()), "attach client");
        return std::nullopt;
      }
    }
  }
}

std::unique_ptr<ExecSession> make_attach_session(stack::UniqueFd shim, bool forward_exit) {
  return std::make_unique<AttachSession>(std::move(shim), forward_exit);
}

}  // namespace stack::orch
