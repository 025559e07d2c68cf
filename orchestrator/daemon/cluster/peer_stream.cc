#include "orchestrator/daemon/cluster/peer_stream.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

namespace stack::orch {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

stack::Result<std::unique_ptr<PeerStream>> PeerStream::connect(const PeerCredentials& credentials,
                                                             const std::string& address, int port) {
  const std::string where = address + ":" + std::to_string(port);
  try {
    std::unique_ptr<PeerStream> p(new PeerStream());
    ssl::context& tls = p->context_;
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls.load_verify_file(credentials.ca_file);  // the cluster's CA alone
    tls.use_certificate_chain_file(credentials.cert_file);
    tls.use_private_key_file(credentials.key_file, ssl::context::pem);
    tls.set_verify_mode(ssl::verify_peer);
    TlsStream& stream = p->stream_.emplace(p->io_, tls);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(stream.native_handle()), address.c_str());
    tcp::resolver resolver(p->io_);
    asio::connect(stream.lowest_layer(), resolver.resolve(address, std::to_string(port)));
    stream.lowest_layer().set_option(tcp::no_delay(true));
    stream.handshake(ssl::stream_base::client);
    return p;
  } catch (const boost::system::system_error& e) {
    return stack::fail(where + ": " + e.code().message(), EHOSTUNREACH);
  } catch (const std::exception& e) {
    return stack::fail(where + ": " + e.what(), EHOSTUNREACH);
  }
}

void PeerStream::shutdown() {
  if (!stream_) return;
  // One close_notify, not asio's shutdown(), which would wait for the
  // other side's: a node that hangs must not hold the caller.
  (void)SSL_shutdown(stream_->native_handle());
  ::shutdown(stream_->lowest_layer().native_handle(), SHUT_RDWR);
}

}  // namespace stack::orch
