// What a joining node and a manager exchange on the manager's join endpoint
// (peer_server.h), over TLS:
//   GET  /v1/join/ca   -> {"ca": PEM}           (unauthenticated: the joiner
//                                                 checks it against its token)
//   POST /v1/join      JoinRequest -> JoinReply (the server verified against
//                                                 that CA before the secret goes)
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace stack::orch {

struct JoinRequest {
  std::string secret;          // the token's secret: it decides the role
  std::string csr;             // PEM; its CN is the node id the joiner chose
  std::string hostname;
  std::string advertise_addr;  // goes into the certificate's IP SAN
  int etcd_client_port = 2379;  // a manager's member
  int etcd_peer_port = 2380;
};

struct JoinReply {
  std::string cluster_id;
  std::string node_id;
  std::string role;  // worker | manager
  std::string cert;  // PEM, signed by the cluster's CA
  std::string ca;
  std::vector<std::string> etcd_endpoints;  // the managers' members
  std::string etcd_initial_cluster;         // a manager: name=peer,... with itself
};

nlohmann::json to_json(const JoinRequest& r);
nlohmann::json to_json(const JoinReply& r);
stack::Result<JoinRequest> join_request_from_json(const nlohmann::json& j);
stack::Result<JoinReply> join_reply_from_json(const nlohmann::json& j);

}  // namespace stack::orch
