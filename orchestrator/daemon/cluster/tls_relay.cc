#include "orchestrator/daemon/cluster/tls_relay.h"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fd.h"
#include "base/io.h"

namespace stack::orch {

namespace asio = boost::asio;

void relay_tls(TlsStream& tls, int plain_fd, const std::atomic<bool>* cancel) {
  const int tcp_fd = tls.lowest_layer().native_handle();
  std::string buf(32 * 1024, '\0');
  for (;;) {
    if (cancel && cancel->load()) return;
    // Bytes that reached this side but that poll() no longer sees: plaintext
    // OpenSSL decrypted and not handed out yet, a record it read and did
    // not process, and records asio moved from the socket into the SSL's
    // read BIO (one TCP read can carry several: an HTTP answer and the
    // first frames of the stream behind it). Waiting in poll() with those
    // pending would wait for ever.
    SSL* ssl = tls.native_handle();
    bool tls_ready = SSL_has_pending(ssl) == 1 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0;
    pollfd p[2] = {{tcp_fd, POLLIN, 0}, {plain_fd, POLLIN, 0}};
    if (!tls_ready) {
      int n = ::poll(p, 2, 200);
      if (n < 0 && errno != EINTR) return;
      if (n <= 0) continue;
      tls_ready = p[0].revents & (POLLIN | POLLHUP | POLLERR);
    }
    if (tls_ready) {
      boost::system::error_code ec;
      size_t n = tls.read_some(asio::buffer(buf), ec);
      if (ec || n == 0) return;  // the far side ended (or broke)
      if (!io::write_all(plain_fd, std::string_view(buf.data(), n), "relay")) return;
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(plain_fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // the local side ended
      boost::system::error_code ec;
      asio::write(tls, asio::buffer(buf.data(), static_cast<size_t>(n)), ec);
      if (ec) return;
    }
  }
}

void clear_socket_timeouts(int fd) {
  timeval none{0, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
}

}  // namespace stack::orch
