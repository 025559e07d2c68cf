// The network manager's state (netplane/net_state_storage.h) in stackd's
// state store, under net/<name> ("net/ipam", "net/networks").
#pragma once

#include <memory>
#include <string>

#include "netplane/net_state_storage.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch {

// `legacy_dir`: where stackd kept the documents as files before issue 13
// (<root>/net). A document absent from the store but present there is
// imported on first load, so running containers keep their addresses across
// the upgrade; the file is then left as it was and no longer written.
std::unique_ptr<net::NetStateStorage> store_net_state(StateStore& store, std::string legacy_dir);

}  // namespace stack::orch
