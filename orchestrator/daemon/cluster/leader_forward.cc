#include "orchestrator/daemon/cluster/leader_forward.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include "orchestrator/daemon/cluster/tls_relay.h"

namespace stack::orch {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

bool is_leader_route(const std::string& path) {
  return path == "/v1/stacks" || path.rfind("/v1/stacks/", 0) == 0 || path == "/v1/events";
}

bool LeaderForward::wants(const std::string& path) { return is_leader_route(path) && leader_().has_value(); }

stack::Result<void> LeaderForward::forward(int client_fd, const std::string& bytes, const std::atomic<bool>& cancel) {
  auto leader = leader_();
  if (!leader) return stack::fail("no manager leads the cluster now; try again in a few seconds", EAGAIN);
  const std::string where = leader->address + ":" + std::to_string(leader->port);
  try {
    asio::io_context io;
    ssl::context tls(ssl::context::tls_client);
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls.load_verify_file(credentials_.ca_file);  // the cluster's CA alone
    tls.use_certificate_chain_file(credentials_.cert_file);
    tls.use_private_key_file(credentials_.key_file, ssl::context::pem);
    tls.set_verify_mode(ssl::verify_peer);
    TlsStream stream(io, tls);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(stream.native_handle()), leader->address.c_str());
    tcp::resolver resolver(io);
    asio::connect(stream.lowest_layer(), resolver.resolve(leader->address, std::to_string(leader->port)));
    stream.lowest_layer().set_option(tcp::no_delay(true));  // a stream's last small chunk goes at once
    stream.handshake(ssl::stream_base::client);
    asio::write(stream, asio::buffer(bytes));
    spdlog::debug("api: relaying to the leader {} at {}", leader->node, where);
    relay_tls(stream, client_fd, &cancel);
    boost::system::error_code ignored;
    stream.shutdown(ignored);
  } catch (const boost::system::system_error& e) {
    return stack::fail("the leader " + leader->node + " at " + where + ": " + e.code().message(), EHOSTUNREACH);
  } catch (const std::exception& e) {
    return stack::fail("the leader " + leader->node + " at " + where + ": " + e.what(), EHOSTUNREACH);
  }
  return {};
}

}  // namespace stack::orch
