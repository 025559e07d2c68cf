// Where the cluster lives in the store (under stackd's etcd prefix), beside
// the stacks' keys (state_store.h):
//   cluster/info       {"cluster_id", "created_ms"}
//   cluster/ca         {"cert", "key"}: the CA, so any manager can sign joins
//   cluster/secrets    {"worker", "manager"}: the join tokens' secrets
//   nodes/<id>         the node's record (NodeView's JSON, cluster_types.h)
//   alive/<id>         under the node's heartbeat lease: gone = the node is down
//   leader             the leading manager's id, under its lease
//   sources/<stack>/<h> what a stack's replicas are cut from (assignment.h),
//                      named by their assignments; `down` removes them
//   assign/<node>/<id> a replica the leader put on the node (assignment.h):
//                      the node runs what is here and removes what is not
//   tasks/<node>/<id>  the node's report of that replica (running, exited, failed)
//   signals/<node>/<id> a signal for the replica (each put is one delivery)
//   probes/<node>/<id> a health probe the leader asks for; the node answers
//                      in tasks/<node>/<id>'s "probe"
#pragma once

#include <string>

namespace stack::orch::cluster_keys {

inline constexpr const char* kInfo = "cluster/info";
inline constexpr const char* kCa = "cluster/ca";
inline constexpr const char* kSecrets = "cluster/secrets";
inline constexpr const char* kNodes = "nodes/";
inline constexpr const char* kAlive = "alive/";
inline constexpr const char* kLeader = "leader";
inline constexpr const char* kSources = "sources/";
inline constexpr const char* kAssign = "assign/";
inline constexpr const char* kTasks = "tasks/";
inline constexpr const char* kSignals = "signals/";
inline constexpr const char* kProbes = "probes/";
// How long a node that stopped answering keeps its heartbeat: a killed node
// is down (and its replicas replaced) this long after its last keep-alive.
// Keep-alives go every sixth of a TTL (LeaseHolder), so a stackd stalled for
// over ~4 s is not yet taken for dead.
inline constexpr int64_t kLeaseSeconds = 5;
// The leader key's TTL, shorter: a killed leader is succeeded about this
// long after its last keep-alive (the failover goal is under 5 s,
// the engine still has to open after that). A leader stalled for over
// ~2.5 s loses the key and steps down; its containers keep running. etcd's
// smallest TTL with its default election timeout is 1.5 s.
inline constexpr int64_t kLeaderLeaseSeconds = 3;
// A DNS name every manager's certificate carries, so that a node reaching
// etcd through several managers checks each against the same name
// (EtcdOptions::tls_server_name); trust comes from the cluster's own CA.
inline constexpr const char* kEtcdServerName = "stack-etcd";

inline std::string node(const std::string& id) { return kNodes + id; }
inline std::string alive(const std::string& id) { return kAlive + id; }
inline std::string sources(const std::string& stack) { return kSources + stack + "/"; }
inline std::string source(const std::string& stack, const std::string& hash) { return sources(stack) + hash; }
inline std::string assign(const std::string& node) { return kAssign + node + "/"; }
inline std::string tasks(const std::string& node) { return kTasks + node + "/"; }
inline std::string signals(const std::string& node) { return kSignals + node + "/"; }
inline std::string probes(const std::string& node) { return kProbes + node + "/"; }

}  // namespace stack::orch::cluster_keys
