#include "orchestrator/daemon/cluster/peer_client.h"

#include "orchestrator/cluster/cluster_config.h"
#include "runtime/image/http.h"

namespace stack::orch {

PeerCredentials PeerCredentials::under(const std::string& root) {
  auto paths = cluster::ClusterPaths::under(root);
  return {paths.ca_cert, paths.node_cert, paths.node_key};
}

int peer_http_status(int err) {
  switch (err) {
    case ENOENT: return 404;
    case EACCES: return 403;
    case EINVAL: return 400;
    default: return 500;
  }
}

int peer_errno(int http_status) {
  switch (http_status) {
    case 404: return ENOENT;
    case 403: return EACCES;
    case 400: return EINVAL;
    default: return EIO;
  }
}

stack::Result<nlohmann::json> peer_call(const PeerCredentials& credentials, const std::string& method,
                                        const std::string& address, int port, const std::string& target,
                                        const std::string& body, int timeout_s) {
  img::http::TlsOptions tls;
  tls.ca_file = credentials.ca_file;
  tls.ca_only = true;
  tls.cert_file = credentials.cert_file;
  tls.key_file = credentials.key_file;
  img::http::Client client(tls);
  img::http::Request req;
  const std::string host = address.find(':') == std::string::npos ? address : "[" + address + "]";
  req.url = "https://" + host + ":" + std::to_string(port) + target;
  req.method = method;
  req.timeout_s = timeout_s;
  if (!body.empty()) {
    req.body = body;
    req.headers.push_back({"Content-Type", "application/json"});
  }
  req.follow_redirects = false;
  auto res = client.send(req);
  if (!res) return tl::unexpected(res.error());
  auto answer = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200) {
    std::string why = answer.is_object() ? answer.value("error", "") : "";
    return stack::fail("node " + address + ": " + (why.empty() ? "HTTP " + std::to_string(res->status) : why),
                       peer_errno(res->status));
  }
  if (answer.is_discarded()) return stack::fail("node " + address + ": the answer is not JSON", EPROTO);
  return answer;
}

}  // namespace stack::orch
