// Lease keep-alives over one long-lived LeaseKeepAlive stream per store, as
// etcd's own client (clientv3) does. A stream opened for each keep-alive
// costs etcd a stream's setup and teardown for a message of a few bytes:
// with 1,000 nodes renewing every sixth of a 5 s TTL that was half a core
// of the manager (bench/cluster_scale_bench.sh). Each round is bounded by
// the request timeout (the async API's deadlines: a stuck etcd cannot hold
// the caller); a failed or timed-out round drops the stream, and the next
// round opens a new one.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>

#include "base/error.h"
#include "orchestrator/daemon/store/etcd/etcd_conn.h"
#include "orchestrator/daemon/store/state_store.h"

namespace stack::orch::etcd {

class KeepAliveStream {
 public:
  explicit KeepAliveStream(std::shared_ptr<Conn> conn);
  ~KeepAliveStream();
  KeepAliveStream(const KeepAliveStream&) = delete;
  KeepAliveStream& operator=(const KeepAliveStream&) = delete;

  // One keep-alive of `id`: its TTL as etcd answers (0: etcd does not know
  // the lease: revoked or expired). Callers take turns (one round at a time).
  stack::Result<int64_t> keep_alive(LeaseId id);

 private:
  struct Stream;
  // Cancels the stream and collects what it still owes the queue.
  static void close(std::unique_ptr<Stream> s);

  const std::shared_ptr<Conn> conn_;
  std::mutex mu_;
  std::unique_ptr<Stream> stream_;  // guarded by mu_; null until needed or after a failure
};

}  // namespace stack::orch::etcd
