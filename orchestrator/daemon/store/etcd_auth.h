// etcd's own access control (its Auth service) for a cluster whose clients
// authenticate by certificate: with --client-cert-auth and auth enabled,
// etcd takes the certificate's CN (our node id) as the user name. Managers
// get etcd's root role; a worker gets a role of its own that reads what it
// needs and writes only its own node's keys (cluster_admit.cc says which).
#pragma once

#include <string>
#include <vector>

#include "orchestrator/daemon/store/etcd_store.h"

namespace stack::orch {

struct EtcdPermission {
  enum Kind { Read, Write, ReadWrite } kind = Read;
  std::string key;  // under EtcdOptions::key_prefix
  bool prefix = false;
};

// Adds etcd's "root" user and each of `root_users` (no password: they come
// with a certificate) with the root role, then turns authentication on.
stack::Result<void> etcd_enable_auth(const EtcdOptions& options, const std::vector<std::string>& root_users);
// A user with the root role (a manager).
stack::Result<void> etcd_add_root_user(const EtcdOptions& options, const std::string& user);
// A user with a role of the same name holding exactly `permissions`.
stack::Result<void> etcd_add_limited_user(const EtcdOptions& options, const std::string& user,
                                          const std::vector<EtcdPermission>& permissions);
// Removes the user and its role of the same name; either absent already is
// no error.
stack::Result<void> etcd_remove_user(const EtcdOptions& options, const std::string& user);

}  // namespace stack::orch
