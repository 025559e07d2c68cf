// Where the cluster lives in the store (under stackd's etcd prefix), beside
// the stacks' keys (state_store.h):
//   cluster/info       {"cluster_id", "created_ms"}
//   cluster/ca         {"cert", "key"}: the CA, so any manager can sign joins
//   cluster/secrets    {"worker", "manager"}: the join tokens' secrets
//   nodes/<id>         the node's record (NodeView's JSON, cluster_types.h)
//   alive/<id>         under the node's heartbeat lease: gone = the node is down
//   leader             the leading manager's id, under its lease
#pragma once

#include <string>

namespace stack::orch::cluster_keys {

inline constexpr const char* kInfo = "cluster/info";
inline constexpr const char* kCa = "cluster/ca";
inline constexpr const char* kSecrets = "cluster/secrets";
inline constexpr const char* kNodes = "nodes/";
inline constexpr const char* kAlive = "alive/";
inline constexpr const char* kLeader = "leader";
// How long a node or a leader that stopped answering keeps its key.
inline constexpr int64_t kLeaseSeconds = 10;
// A DNS name every manager's certificate carries, so that a node reaching
// etcd through several managers checks each against the same name
// (EtcdOptions::tls_server_name); trust comes from the cluster's own CA.
inline constexpr const char* kEtcdServerName = "stack-etcd";

inline std::string node(const std::string& id) { return kNodes + id; }
inline std::string alive(const std::string& id) { return kAlive + id; }

}  // namespace stack::orch::cluster_keys
