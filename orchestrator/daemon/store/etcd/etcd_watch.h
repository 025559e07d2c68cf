// A StoreWatch over one etcd Watch stream (one watcher per stream, so every
// response on it is ours). A reader thread takes what etcd sends into a queue;
// poll() returns the queue once etcd has confirmed, with a progress response,
// that everything up to the store's current revision was sent.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch::etcd {

class Conn;

// Opens the watch from revision `from` (>= 1) and waits until etcd has sent
// its retained history up to now; kErrCompacted when `from` was compacted.
// `current_revision` reads the store's revision (for poll()'s "up to now").
stack::Result<std::unique_ptr<StoreWatch>> open_watch(std::shared_ptr<Conn> conn, const std::string& key, bool prefix,
                                                      Revision from,
                                                      std::function<stack::Result<Revision>()> current_revision);

}  // namespace stack::orch::etcd
