#include "orchestrator/daemon/store/lease_holder.h"

namespace stack::orch {

stack::Result<std::unique_ptr<LeaseHolder>> LeaseHolder::acquire(StateStore& store, const std::string& key,
                                                                 const std::string& value, int64_t ttl_seconds,
                                                                 LostHandler on_lost,
                                                                 std::function<bool(const std::string&)> stale) {
  auto lease = store.lease_grant(ttl_seconds);
  if (!lease) return tl::unexpected(lease.error().wrap("hold " + key));
  const StoreOp put{StoreOp::Put, key, value, *lease};
  auto r = store.txn(Txn{{Compare::absent(key)}, {put}, {{StoreOp::Get, key, ""}}});
  if (r && !r->succeeded && stale) {
    const auto& held = r->results.at(0).kvs;
    // Only if the holder is still the one judged stale: a live successor
    // that took the key meanwhile keeps it.
    if (!held.empty() && stale(held.front().value))
      r = store.txn(Txn{{Compare::value_is(key, Compare::Equal, held.front().value)}, {put}, {{StoreOp::Get, key, ""}}});
  }
  if (!r || !r->succeeded) {
    (void)store.lease_revoke(*lease);  // ours to give back either way
    if (!r) return tl::unexpected(r.error().wrap("hold " + key));
    const auto& held = r->results.at(0).kvs;
    return stack::fail(key + " is held by " + (held.empty() ? std::string("someone else") : held.front().value));
  }
  return std::unique_ptr<LeaseHolder>(new LeaseHolder(store, *lease, ttl_seconds, std::move(on_lost)));
}

LeaseHolder::LeaseHolder(StateStore& store, LeaseId lease, int64_t ttl_seconds, LostHandler on_lost)
    : store_(store), lease_(lease), ttl_seconds_(ttl_seconds), on_lost_(std::move(on_lost)) {
  thread_ = std::thread([this] { keep_alive_loop(); });
}

LeaseHolder::~LeaseHolder() { release(); }

void LeaseHolder::release() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  bool was_held = held();
  if (was_held) (void)store_.lease_revoke(lease_);
  std::lock_guard lock(mu_);
  held_ = false;
}

bool LeaseHolder::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

void LeaseHolder::keep_alive_loop() {
  // A sixth of the TTL (etcd's own client uses a third): five keep-alives
  // may fail (a raft election, a slow disk) before the lease is at risk, and
  // a key whose holder died ends at most a sixth short of a full TTL after.
  // A keep-alive is cheap: the raft leader renews it without a log entry.
  const auto period = std::chrono::milliseconds(ttl_seconds_ * 1000 / 6);
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, period, [this] { return stopping_; })) {
    lock.unlock();
    auto r = store_.lease_keep_alive(lease_);
    lock.lock();
    if (r || !is_store_error(r.error(), kErrLeaseNotFound)) continue;  // transient: try again next period
    held_ = false;
    lock.unlock();
    if (on_lost_) on_lost_(r.error());
    return;
  }
}

}  // namespace stack::orch
