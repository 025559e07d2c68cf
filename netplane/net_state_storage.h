// Where the network manager keeps its state: two JSON documents, "ipam"
// (ipam.h: networks, subnets, address leases) and "networks" (internal/mtu
// per network and the published port mappings). stackd keeps them in its
// state store (orchestrator/daemon/store/net_state_store.cc), so a cluster backend
// holds them with everything else; netplane's own tests and benchmarks keep
// them as files <dir>/<name>.json, as stackd did before issue 13.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/error.h"

namespace stack::net {

class NetStateStorage {
 public:
  virtual ~NetStateStorage() = default;
  // The document last saved; nullopt when none ever was (a first start).
  virtual stack::Result<std::optional<std::string>> load(const std::string& name) = 0;
  // Replaces it whole: a crash leaves the old or the new document.
  virtual stack::Result<void> save(const std::string& name, const std::string& text) = 0;
  // Where `name` is kept, for error messages: a path, a store key.
  virtual std::string where(const std::string& name) const = 0;
};

// Files <dir>/<name>.json, mode 0600, replaced by rename with base/io.h's
// Process durability (they matter only while the host stays up).
std::unique_ptr<NetStateStorage> file_net_state_storage(std::string dir);

}  // namespace stack::net
