// The cluster's state store: etcd, through its v3 gRPC API, behind the same
// StateStore interface and contract as the single-node SQLite store
// (state_store.h; the contract suite runs against a real etcd in
// tests/integration/etcd_store_test.cc).
//
// What differs from SQLite, because etcd is the authority:
// - etcd expires leases by its own clock: expire_leases() returns nothing and
//   StoreOptions::clock is not used;
// - a watch is etcd's stream: the history it replays is sent when the watch is
//   created, so a later compaction does not take away events the watch
//   already holds (SQLite's cursor reads them lazily and fails instead);
// - revisions are etcd's, shared by every key in that etcd, so an etcd used by
//   other programs too (`--etcd-endpoints`) moves revisions we do not see.
//
// Keys are stored under `key_prefix` (default "/stack/"), which is added on
// the way in and taken off on the way out, so several tools can share one
// etcd and a prefix range of "" means every key of ours, not every key.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

struct EtcdOptions {
  // "host:port", "http://host:port" or "https://host:port" (https: TLS even
  // without client certificates). Several members: numeric IPv4 addresses,
  // tried in order (gRPC's pick_first); one endpoint may be a host name.
  std::vector<std::string> endpoints;
  // PEM files. ca_file set: TLS, the server verified against it; cert_file
  // and key_file set too: mutual TLS (etcd's --client-cert-auth).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // The name the members' certificates are checked for, instead of each
  // endpoint's address: needed when there are several endpoints (gRPC dials
  // them as one target). A cluster's managers all carry "stack-etcd".
  std::string tls_server_name;
  std::string key_prefix = "/stack/";
  // revision() reads this key (under the prefix) for etcd's header; "" =
  // the whole prefix. With etcd's authentication on, a key every user of
  // the store may read (a cluster's workers read "leader", not everything).
  std::string revision_probe_key;
  std::chrono::milliseconds dial_timeout{5000};     // open: until connected
  std::chrono::milliseconds request_timeout{10000};  // each call
  // As StoreOptions::retain_revisions: history older than this many
  // revisions is compacted after our writes (0: never by us).
  Revision retain_revisions = 1000;
};

// Connects (waiting up to dial_timeout) and checks that the endpoint answers
// etcd's KV service; an error names the endpoints and gRPC's reason.
stack::Result<std::unique_ptr<StateStore>> open_etcd_store(EtcdOptions options);

}  // namespace stack::orch
