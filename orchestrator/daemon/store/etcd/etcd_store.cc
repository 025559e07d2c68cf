// StateStore over etcd's KV and Lease services (etcd_store.h). Each call is
// one unary RPC (a keep-alive is one round on the LeaseKeepAlive stream); the
// txn is etcd's Txn, so atomicity, revisions and compares are etcd's own.
#include "orchestrator/daemon/store/etcd_store.h"

#include <atomic>

#include "orchestrator/daemon/store/etcd/etcd_conn.h"
#include "orchestrator/daemon/store/etcd/etcd_keepalive.h"
#include "orchestrator/daemon/store/etcd/etcd_watch.h"
#include "orchestrator/daemon/store/store_txn.h"

namespace stack::orch {
namespace {

namespace pb = etcdserverpb;

pb::Compare::CompareResult compare_op(Compare::Op op) {
  switch (op) {
    case Compare::Equal: return pb::Compare::EQUAL;
    case Compare::NotEqual: return pb::Compare::NOT_EQUAL;
    case Compare::Less: return pb::Compare::LESS;
    case Compare::Greater: return pb::Compare::GREATER;
  }
  return pb::Compare::EQUAL;
}

class EtcdStore final : public StateStore {
 public:
  EtcdStore(std::shared_ptr<etcd::Conn> conn, Revision retain, std::string probe)
      : conn_(std::move(conn)), retain_(retain), probe_(std::move(probe)) {}

  size_t parallel_commits() const override { return 8; }

  stack::Result<RangeResult> range(const std::string& key, RangeOptions options) override {
    if (key.empty() && !options.prefix) return stack::fail(std::string("etcd range: ") + kErrEmptyKey);
    pb::RangeRequest req;
    conn_->set_range(key, options.prefix, req.mutable_key(), req.mutable_range_end());
    req.set_revision(options.revision);
    auto resp = conn_->unary<pb::RangeResponse>(conn_->kv(), &pb::KV::Stub::Range, req, "range " + key);
    if (!resp) return tl::unexpected(resp.error());
    RangeResult out;
    out.revision = resp->header().revision();
    out.kvs.reserve(resp->kvs_size());
    for (const auto& kv : resp->kvs()) out.kvs.push_back(conn_->to_kv(kv));
    return out;
  }

  stack::Result<TxnResult> txn(const Txn& txn) override {
    // Our rules first (empty keys, a key written twice): the same errors as
    // SQLite's, found before anything is sent.
    STACK_TRY(mvcc::validate(txn));
    pb::TxnRequest req;
    for (const auto& c : txn.compares) {
      auto* pc = req.add_compare();
      std::string end;
      conn_->set_range(c.key, false, pc->mutable_key(), &end);
      pc->set_result(compare_op(c.op));
      switch (c.target) {
        case Compare::Value: pc->set_target(pb::Compare::VALUE); pc->set_value(c.value); break;
        case Compare::Version: pc->set_target(pb::Compare::VERSION); pc->set_version(c.number); break;
        case Compare::CreateRevision: pc->set_target(pb::Compare::CREATE); pc->set_create_revision(c.number); break;
        case Compare::ModRevision: pc->set_target(pb::Compare::MOD); pc->set_mod_revision(c.number); break;
      }
    }
    for (const auto& op : txn.success) add_op(op, req.add_success());
    for (const auto& op : txn.failure) add_op(op, req.add_failure());
    auto resp = conn_->unary<pb::TxnResponse>(conn_->kv(), &pb::KV::Stub::Txn, req, "txn");
    if (!resp) return tl::unexpected(resp.error());
    TxnResult out;
    out.succeeded = resp->succeeded();
    out.revision = resp->header().revision();
    for (const auto& r : resp->responses()) {
      OpResult o;
      if (r.has_response_range())
        for (const auto& kv : r.response_range().kvs()) o.kvs.push_back(conn_->to_kv(kv));
      if (r.has_response_delete_range()) o.deleted = r.response_delete_range().deleted();
      out.results.push_back(std::move(o));
    }
    compact_behind(out.revision);
    return out;
  }

  stack::Result<LeaseId> lease_grant(int64_t ttl_seconds) override {
    if (ttl_seconds <= 0) return stack::fail("etcd lease grant: the TTL must be positive");
    pb::LeaseGrantRequest req;
    req.set_ttl(ttl_seconds);
    auto resp = conn_->unary<pb::LeaseGrantResponse>(conn_->lease(), &pb::Lease::Stub::LeaseGrant, req, "lease grant");
    if (!resp) return tl::unexpected(resp.error());
    if (!resp->error().empty()) return stack::fail("etcd lease grant: " + resp->error());
    return resp->id();
  }

  stack::Result<void> lease_keep_alive(LeaseId id) override {
    auto ttl = keepalive_.keep_alive(id);
    if (!ttl) return tl::unexpected(ttl.error());
    // etcd answers a lease it does not know (revoked, expired) with TTL 0.
    if (*ttl <= 0) return stack::fail("etcd lease keep-alive " + std::to_string(id) + ": " + kErrLeaseNotFound);
    return {};
  }

  stack::Result<void> lease_revoke(LeaseId id) override {
    pb::LeaseRevokeRequest req;
    req.set_id(id);
    auto resp = conn_->unary<pb::LeaseRevokeResponse>(conn_->lease(), &pb::Lease::Stub::LeaseRevoke, req,
                                                      "lease revoke " + std::to_string(id));
    if (!resp) return tl::unexpected(resp.error());
    return {};
  }

  // etcd revokes expired leases itself, by its own clock.
  stack::Result<std::vector<LeaseId>> expire_leases() override { return std::vector<LeaseId>{}; }

  stack::Result<std::unique_ptr<StoreWatch>> watch(const std::string& key, WatchOptions options) override {
    if (key.empty() && !options.prefix) return stack::fail(std::string("etcd watch: ") + kErrEmptyKey);
    Revision from = options.start_revision;
    if (from == 0) {
      // "From now" is fixed here rather than when etcd gets round to the
      // create request, so a write made after watch() returns is seen.
      auto rev = revision();
      if (!rev) return tl::unexpected(rev.error());
      from = *rev + 1;
    }
    return etcd::open_watch(conn_, key, options.prefix, from, [this] { return revision(); });
  }

  stack::Result<void> compact(Revision revision) override {
    pb::CompactionRequest req;
    req.set_revision(revision);
    auto resp = conn_->unary<pb::CompactionResponse>(conn_->kv(), &pb::KV::Stub::Compact, req,
                                                     "compact " + std::to_string(revision));
    if (!resp) return tl::unexpected(resp.error());
    Revision seen = compacted_.load();
    while (seen < revision && !compacted_.compare_exchange_weak(seen, revision)) {
    }
    return {};
  }

  stack::Result<Revision> revision() override {
    // A linearizable read of something this user may read: its header
    // carries the store's revision.
    pb::RangeRequest req;
    conn_->set_range(probe_, probe_.empty(), req.mutable_key(), req.mutable_range_end());
    req.set_count_only(true);
    auto resp = conn_->unary<pb::RangeResponse>(conn_->kv(), &pb::KV::Stub::Range, req, "revision");
    if (!resp) return tl::unexpected(resp.error());
    return resp->header().revision();
  }

 private:
  void add_op(const StoreOp& op, pb::RequestOp* out) {
    switch (op.kind) {
      case StoreOp::Put: {
        auto* p = out->mutable_request_put();
        std::string end;
        conn_->set_range(op.key, false, p->mutable_key(), &end);
        p->set_value(op.value);
        p->set_lease(op.lease);
        break;
      }
      case StoreOp::Delete:
      case StoreOp::DeletePrefix: {
        auto* d = out->mutable_request_delete_range();
        conn_->set_range(op.key, op.kind == StoreOp::DeletePrefix, d->mutable_key(), d->mutable_range_end());
        break;
      }
      case StoreOp::Get:
      case StoreOp::GetPrefix: {
        auto* r = out->mutable_request_range();
        conn_->set_range(op.key, op.kind == StoreOp::GetPrefix, r->mutable_key(), r->mutable_range_end());
        break;
      }
    }
  }

  // As SQLite's store: once twice `retain_` revisions have piled up since the
  // last compaction, compact to `retain_` behind. Another client may have
  // compacted further already; that is not an error here.
  void compact_behind(Revision now) {
    if (retain_ <= 0 || now - compacted_.load() < 2 * retain_) return;
    auto r = compact(now - retain_);
    if (!r && is_store_error(r.error(), kErrCompacted)) compacted_.store(now - retain_);
  }

  std::shared_ptr<etcd::Conn> conn_;
  Revision retain_;
  std::string probe_;
  etcd::KeepAliveStream keepalive_{conn_};  // after conn_
  std::atomic<Revision> compacted_{0};
};

}  // namespace

stack::Result<std::unique_ptr<StateStore>> open_etcd_store(EtcdOptions options) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  auto store = std::make_unique<EtcdStore>(std::move(*conn), options.retain_revisions, options.revision_probe_key);
  // A first read proves it is etcd answering (and that TLS and the client
  // certificate were accepted), not just something listening on the port.
  auto rev = store->revision();
  if (!rev) return tl::unexpected(rev.error().wrap("open etcd store"));
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace stack::orch
