// The client side of a node's cluster endpoint (peer_server.h,
// node_routes.h): a manager asks another node about the replicas it runs,
// proving who it is with its own cluster certificate and trusting only the
// cluster's CA for the node's.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "base/error.h"

namespace stack::orch {

struct PeerCredentials {
  std::string ca_file, cert_file, key_file;  // <root>/cluster/{ca,node}.pem, node.key
  static PeerCredentials under(const std::string& root);
};

// A cluster endpoint's errors as HTTP statuses, both ways (its routes
// answer with them, the leader's side reads them): ENOENT 404, EACCES 403,
// EINVAL 400; any other errno is 500, any other status EIO.
int peer_http_status(int err);
int peer_errno(int http_status);

// METHOD https://<address>:<port><target> (with `body` as JSON): the JSON
// body of a 200; otherwise an error carrying the node's own message (or the
// transport's). `timeout_s` bounds each connect, write and read.
stack::Result<nlohmann::json> peer_call(const PeerCredentials& credentials, const std::string& method,
                                        const std::string& address, int port, const std::string& target,
                                        const std::string& body = "", int timeout_s = 10);
inline stack::Result<nlohmann::json> peer_get(const PeerCredentials& credentials, const std::string& address, int port,
                                              const std::string& target) {
  return peer_call(credentials, "GET", address, port, target);
}

}  // namespace stack::orch
