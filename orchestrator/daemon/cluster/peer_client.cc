#include "orchestrator/daemon/cluster/peer_client.h"

#include "orchestrator/cluster/cluster_config.h"
#include "runtime/image/http.h"

namespace stack::orch {

PeerCredentials PeerCredentials::under(const std::string& root) {
  auto paths = cluster::ClusterPaths::under(root);
  return {paths.ca_cert, paths.node_cert, paths.node_key};
}

stack::Result<nlohmann::json> peer_get(const PeerCredentials& credentials, const std::string& address, int port,
                                       const std::string& target) {
  img::http::TlsOptions tls;
  tls.ca_file = credentials.ca_file;
  tls.ca_only = true;
  tls.cert_file = credentials.cert_file;
  tls.key_file = credentials.key_file;
  img::http::Client client(tls);
  img::http::Request req;
  const std::string host = address.find(':') == std::string::npos ? address : "[" + address + "]";
  req.url = "https://" + host + ":" + std::to_string(port) + target;
  req.timeout_s = 10;
  req.follow_redirects = false;
  auto res = client.send(req);
  if (!res) return tl::unexpected(res.error());
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200) {
    std::string why = body.is_object() ? body.value("error", "") : "";
    return stack::fail("node " + address + ": " + (why.empty() ? "HTTP " + std::to_string(res->status) : why),
                       res->status == 404 ? ENOENT : res->status == 403 ? EACCES : EIO);
  }
  if (body.is_discarded()) return stack::fail("node " + address + ": the answer is not JSON", EPROTO);
  return body;
}

}  // namespace stack::orch
