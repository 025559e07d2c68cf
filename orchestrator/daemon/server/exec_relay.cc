#include "orchestrator/daemon/server/exec_relay.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/io.h"
#include "orchestrator/api/framing.h"

namespace stack::orch {

namespace {

// One relay: which ends are still open, and whether the client still listens.
struct RelayState {
  int sock;
  ExecSession& session;
  bool client_gone = false;
  bool stdin_closed = false;

  void send(FrameType t, const std::string& payload) {
    if (client_gone) return;
    if (!io::write_all(sock, encode_frame(t, payload))) client_gone = true;
  }
  void close_stdin() {
    if (stdin_closed) return;
    stdin_closed = true;
    session.close_stdin();
  }
  // A frame from the client.
  void apply(const Frame& f) {
    switch (f.type) {
      case FrameType::Stdin:
        if (f.payload.empty()) {
          close_stdin();
        } else if (!stdin_closed && session.stdin_fd() >= 0) {
          if (!io::write_all(session.stdin_fd(), f.payload)) close_stdin();  // the process closed its stdin
        }
        break;
      case FrameType::Resize: {
        unsigned rows = 0, cols = 0;
        if (std::sscanf(f.payload.c_str(), "%u %u", &rows, &cols) == 2 && rows && cols) session.resize(rows, cols);
        break;
      }
      default:
        break;  // daemon -> client types: ignored from a client
    }
  }
};

}  // namespace

void relay_frames(int socket_fd, ExecSession& session, std::string pending, const std::atomic<bool>& stop) {
  if (session.relay_client(socket_fd, pending, stop)) return;  // on another node: frames relayed as they are
  RelayState st{socket_fd, session};
  FrameDecoder decoder;
  auto drain_decoder = [&] {
    while (auto f = decoder.next()) st.apply(*f);
    if (!decoder.error().empty()) {
      st.send(FrameType::Error, "protocol error: " + decoder.error());
      st.client_gone = true;
    }
  };
  decoder.feed(pending.data(), pending.size());
  drain_decoder();

  int out_fd = session.stdout_fd();
  int err_fd = session.stderr_fd();
  bool out_open = out_fd >= 0, err_open = err_fd >= 0;
  std::string buf(32 * 1024, '\0');
  while (out_open || err_open) {
    pollfd fds[3];
    nfds_t n = 0;
    int out_i = -1, err_i = -1, sock_i = -1;
    if (out_open) { out_i = static_cast<int>(n); fds[n++] = {out_fd, POLLIN, 0}; }
    if (err_open) { err_i = static_cast<int>(n); fds[n++] = {err_fd, POLLIN, 0}; }
    if (!st.client_gone) { sock_i = static_cast<int>(n); fds[n++] = {socket_fd, POLLIN, 0}; }
    if (::poll(fds, n, 200) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (stop) {
      st.send(FrameType::Error, "stackd is stopping");
      return;
    }
    auto pump = [&](int idx, int fd, bool& open, FrameType t) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      ssize_t r = ::read(fd, buf.data(), buf.size());
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
      if (r <= 0) {  // EOF, or EIO on a pty master once the slave side is gone
        open = false;
        return;
      }
      st.send(t, buf.substr(0, static_cast<size_t>(r)));
    };
    pump(out_i, out_fd, out_open, FrameType::Stdout);
    pump(err_i, err_fd, err_open, FrameType::Stderr);
    if (sock_i >= 0 && (fds[sock_i].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(socket_fd, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        // The client is gone: nobody will type any more; let the process
        // see EOF and finish, and keep draining so it never blocks on output.
        st.client_gone = true;
        st.close_stdin();
        continue;
      }
      decoder.feed(buf.data(), static_cast<size_t>(r));
      drain_decoder();
    }
  }
  auto code = session.wait();
  if (code)
    st.send(FrameType::Exit, std::to_string(*code));
  else
    st.send(FrameType::Error, code.error().message());
}

}  // namespace stack::orch
