// StateStore over SQLite (schema: sqlite_schema.cc): WAL journal with
// synchronous=NORMAL (a crash loses at most the last transactions, never the
// file's consistency), every statement prepared once. One connection behind a
// mutex: stackd's writes are small and few, and SQLite serialises writers
// anyway. The revision, the compacted revision and lease deadlines are cached
// in memory: this connection is the only writer (one stackd per root).
//
// Ownership: SqliteStore owns the connection and its prepared statements;
// statements are finalized before the connection closes (member order).
#include <sys/stat.h>

#include <mutex>

#include "orchestrator/daemon/store/sqlite_db.h"
#include "orchestrator/daemon/store/sqlite_schema.h"
#include "orchestrator/daemon/store/state_store.h"
#include "orchestrator/daemon/store/store_leases.h"
#include "orchestrator/daemon/store/store_txn.h"
#include "orchestrator/daemon/store/store_watch.h"

namespace stack::orch {

namespace {

using stack::fail;
using stack::Result;
using sqlite::Stmt;
using sqlite::Use;

constexpr const char* kKeyIs = "key = ?1";
constexpr const char* kKeyIn = "key >= ?1 AND (?2 IS NULL OR key < ?2)";
constexpr const char* kKvColumns = "key, value, create_revision, mod_revision, version, lease";
constexpr const char* kHistoryColumns = "key, value, create_revision, revision, version, lease, tombstone";

std::string with_where(std::string sql, const char* where) {
  return sql.replace(sql.find("{where}"), 7, where);
}

KeyValue kv_of(const Use& use) {
  return KeyValue{use.column_text(0), use.column_text(1), use.column_int(2),
                  use.column_int(3),  use.column_int(4),  use.column_int(5)};
}

// Statements that come in two forms: one key, or a prefix.
struct KeyOrPrefix {
  Stmt key, prefix;
  const Stmt& pick(bool is_prefix) const { return is_prefix ? prefix : key; }
};

class SqliteStore final : public StateStore {
 public:
  static Result<std::unique_ptr<StateStore>> open(const std::string& path, StoreOptions options) {
    auto store = std::unique_ptr<SqliteStore>(new SqliteStore(path, std::move(options)));
    STACK_TRY_CTX(store->init(), "state store " + path);
    return std::unique_ptr<StateStore>(std::move(store));
  }

  Result<RangeResult> range(const std::string& key, RangeOptions options) override {
    std::lock_guard lock(mu_);
    RangeResult out;
    out.revision = revision_;
    if (options.revision == 0 || options.revision == revision_) {
      auto kvs = read_live(key, options.prefix);
      if (!kvs) return tl::unexpected(kvs.error());
      out.kvs = std::move(*kvs);
      return out;
    }
    STACK_TRY(check_readable(options.revision));
    Use use(history_at_.pick(options.prefix));
    bind_key(use, key, options.prefix).integer(3, options.revision);
    for (int rc; (rc = use.step()) != SQLITE_DONE;) {
      if (rc != SQLITE_ROW) return error("range " + key);
      if (use.column_int(6) == 0) out.kvs.push_back(kv_of(use));
    }
    return out;
  }

  Result<TxnResult> txn(const Txn& txn) override {
    std::lock_guard lock(mu_);
    return write_txn(txn);
  }

  Result<LeaseId> lease_grant(int64_t ttl_seconds) override {
    if (ttl_seconds <= 0) return fail("lease TTL must be positive, not " + std::to_string(ttl_seconds));
    std::lock_guard lock(mu_);
    LeaseId id = next_lease_;
    STACK_TRY(sqlite::exec(db_.get(), "BEGIN IMMEDIATE"));
    auto r = step(Use(lease_add_).integer(1, id).integer(2, ttl_seconds), "grant lease");
    if (r) r = set_meta("next_lease", id + 1);
    STACK_TRY(finish(r));
    next_lease_ = id + 1;
    leases_.start(id, ttl_seconds, clock_());
    return id;
  }

  Result<void> lease_keep_alive(LeaseId id) override {
    std::lock_guard lock(mu_);
    if (!leases_.renew(id, clock_())) return fail(std::string(kErrLeaseNotFound) + ": " + std::to_string(id));
    return {};
  }

  Result<void> lease_revoke(LeaseId id) override {
    std::lock_guard lock(mu_);
    return revoke(id);
  }

  Result<std::vector<LeaseId>> expire_leases() override {
    std::lock_guard lock(mu_);
    auto ids = leases_.expired(clock_());
    for (LeaseId id : ids) STACK_TRY(revoke(id));
    return ids;
  }

  Result<std::unique_ptr<StoreWatch>> watch(const std::string& key, WatchOptions options) override {
    std::lock_guard lock(mu_);
    Revision from = options.start_revision == 0 ? revision_ + 1 : options.start_revision;
    if (from < compacted_) return compacted_error(from);
    return mvcc::make_history_watch(
        [this, key, prefix = options.prefix](Revision start) { return read_history(key, prefix, start); }, from,
        signal_);
  }

  Result<void> compact(Revision revision) override {
    std::lock_guard lock(mu_);
    if (revision > revision_) return future_error(revision);
    if (revision <= compacted_) return compacted_error(revision);
    STACK_TRY(sqlite::exec(db_.get(), "BEGIN IMMEDIATE"));
    STACK_TRY(finish(compact_rows(revision)));
    compacted_ = revision;
    return {};
  }

  Result<Revision> revision() override {
    std::lock_guard lock(mu_);
    return revision_;
  }

 private:
  // The TxnView of one write transaction: live rows in kv, every change also
  // appended to history at the txn's revision.
  class View final : public mvcc::TxnView {
   public:
    explicit View(SqliteStore& s) : s_(s) {}
    Result<std::vector<KeyValue>> read(const std::string& key, bool prefix) override {
      return s_.read_live(key, prefix);
    }
    Result<void> write(const KeyValue& kv, bool tombstone) override {
      if (tombstone) {
        STACK_TRY(s_.step(Use(s_.kv_delete_).text(1, kv.key), "delete " + kv.key));
      } else {
        STACK_TRY(s_.step(Use(s_.kv_put_)
                              .text(1, kv.key)
                              .text(2, kv.value)
                              .integer(3, kv.create_revision)
                              .integer(4, kv.mod_revision)
                              .integer(5, kv.version)
                              .integer(6, kv.lease),
                          "put " + kv.key));
      }
      return s_.step(Use(s_.history_add_)
                         .integer(1, kv.mod_revision)
                         .integer(2, sub_++)
                         .text(3, kv.key)
                         .text(4, kv.value)
                         .integer(5, kv.create_revision)
                         .integer(6, kv.version)
                         .integer(7, kv.lease)
                         .integer(8, tombstone ? 1 : 0),
                     "history of " + kv.key);
    }
    bool lease_exists(LeaseId id) override { return s_.leases_.contains(id); }

   private:
    SqliteStore& s_;
    int64_t sub_ = 0;
  };

  SqliteStore(std::string path, StoreOptions options)
      : path_(std::move(path)),
        clock_(options.clock ? std::move(options.clock) : StoreClock(std::chrono::steady_clock::now)),
        retain_(options.retain_revisions) {}

  Result<void> init() {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &raw,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw);  // a failed open still returns a handle to close
    if (rc != SQLITE_OK) return fail(std::string("open: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    ::chmod(path_.c_str(), 0600);  // container facts and env values: root only
    sqlite3* db = db_.get();
    sqlite3_extended_result_codes(db, 1);
    STACK_TRY(sqlite::exec(db, "PRAGMA journal_mode=WAL"));
    STACK_TRY(sqlite::exec(db, "PRAGMA synchronous=NORMAL"));
    STACK_TRY(sqlite::exec(db, "PRAGMA busy_timeout=5000"));
    STACK_TRY(sqlite::migrate(db));
    STACK_TRY(prepare_all());
    auto rev = get_meta("revision");
    auto compacted = get_meta("compact_revision");
    auto next_lease = get_meta("next_lease");
    if (!rev || !compacted || !next_lease) return fail("read meta: " + std::string(sqlite3_errmsg(db)));
    revision_ = *rev;
    compacted_ = *compacted;
    next_lease_ = *next_lease;
    return load_leases();
  }

  Result<void> prepare_all() {
    sqlite3* db = db_.get();
    std::string kv_select = std::string("SELECT ") + kKvColumns + " FROM kv WHERE {where} ORDER BY key";
    STACK_TRY(sqlite::prepare(db, live_.key, with_where(kv_select, kKeyIs)));
    STACK_TRY(sqlite::prepare(db, live_.prefix, with_where(kv_select, kKeyIn)));
    // The newest row of each key at or before ?3 (tombstones filtered by the caller).
    std::string at = std::string("SELECT ") + kHistoryColumns +
                     " FROM history AS h WHERE {where} AND revision <= ?3 AND revision = "
                     "(SELECT max(revision) FROM history AS h2 WHERE h2.key = h.key AND h2.revision <= ?3) "
                     "ORDER BY key";
    STACK_TRY(sqlite::prepare(db, history_at_.key, with_where(at, kKeyIs)));
    STACK_TRY(sqlite::prepare(db, history_at_.prefix, with_where(at, kKeyIn)));
    std::string since = std::string("SELECT ") + kHistoryColumns +
                        " FROM history WHERE {where} AND revision >= ?3 ORDER BY revision, sub";
    STACK_TRY(sqlite::prepare(db, history_since_.key, with_where(since, kKeyIs)));
    STACK_TRY(sqlite::prepare(db, history_since_.prefix, with_where(since, kKeyIn)));
    STACK_TRY(sqlite::prepare(db, kv_put_,
                              "INSERT INTO kv (key, value, create_revision, mod_revision, version, lease) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (key) DO UPDATE SET "
                              "value = excluded.value, create_revision = excluded.create_revision, "
                              "mod_revision = excluded.mod_revision, version = excluded.version, "
                              "lease = excluded.lease"));
    STACK_TRY(sqlite::prepare(db, kv_delete_, "DELETE FROM kv WHERE key = ?1"));
    STACK_TRY(sqlite::prepare(db, kv_of_lease_, "SELECT key FROM kv WHERE lease = ?1 ORDER BY key"));
    STACK_TRY(sqlite::prepare(db, history_add_,
                              "INSERT INTO history (revision, sub, key, value, create_revision, version, "
                              "lease, tombstone) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    // Keeps, per key, the newest row at or before ?1 unless it is a
    // tombstone, and everything after ?1: the state at ?1 stays readable and
    // a watch from ?1 still sees that revision's events (tombstones at ?1 too).
    STACK_TRY(sqlite::prepare(db, history_compact_,
                              "DELETE FROM history WHERE revision < ?1 AND (tombstone = 1 OR EXISTS "
                              "(SELECT 1 FROM history AS h2 WHERE h2.key = history.key "
                              "AND h2.revision > history.revision AND h2.revision <= ?1))"));
    STACK_TRY(sqlite::prepare(db, meta_get_, "SELECT value FROM meta WHERE name = ?1"));
    STACK_TRY(sqlite::prepare(db, meta_set_, "UPDATE meta SET value = ?2 WHERE name = ?1"));
    STACK_TRY(sqlite::prepare(db, lease_add_, "INSERT INTO lease (id, ttl) VALUES (?1, ?2)"));
    STACK_TRY(sqlite::prepare(db, lease_delete_, "DELETE FROM lease WHERE id = ?1"));
    STACK_TRY(sqlite::prepare(db, lease_all_, "SELECT id, ttl FROM lease"));
    return {};
  }

  Result<void> load_leases() {
    Use use(lease_all_);
    auto now = clock_();
    for (int rc; (rc = use.step()) != SQLITE_DONE;) {
      if (rc != SQLITE_ROW) return error("load leases");
      leases_.start(use.column_int(0), use.column_int(1), now);
    }
    return {};
  }

  // --- with mu_ held -----------------------------------------------------------

  Use& bind_key(Use& use, const std::string& key, bool prefix) {
    use.text(1, key);
    if (prefix) use.text(2, mvcc::prefix_end(key));  // none: ?2 stays NULL, no upper bound
    return use;
  }

  Result<std::vector<KeyValue>> read_live(const std::string& key, bool prefix) {
    Use use(live_.pick(prefix));
    bind_key(use, key, prefix);
    std::vector<KeyValue> out;
    for (int rc; (rc = use.step()) != SQLITE_DONE;) {
      if (rc != SQLITE_ROW) return error("read " + key);
      out.push_back(kv_of(use));
    }
    return out;
  }

  Result<mvcc::HistoryRead> read_history(const std::string& key, bool prefix, Revision from) {
    std::lock_guard lock(mu_);
    if (from < compacted_) return compacted_error(from);
    mvcc::HistoryRead out;
    out.revision = revision_;
    Use use(history_since_.pick(prefix));
    bind_key(use, key, prefix).integer(3, from);
    for (int rc; (rc = use.step()) != SQLITE_DONE;) {
      if (rc != SQLITE_ROW) return error("watch " + key);
      KeyValue kv = kv_of(use);
      if (use.column_int(6) != 0)
        out.events.push_back({WatchEvent::Delete, KeyValue{kv.key, {}, 0, kv.mod_revision, 0, 0}});
      else
        out.events.push_back({WatchEvent::Put, std::move(kv)});
    }
    return out;
  }

  Result<TxnResult> write_txn(const Txn& txn) {
    STACK_TRY(mvcc::validate(txn));  // before taking SQLite's write lock
    STACK_TRY(sqlite::exec(db_.get(), "BEGIN IMMEDIATE"));
    View view(*this);
    auto r = mvcc::apply_txn(view, revision_, txn);
    Revision compact_to = 0;
    if (r && r->revision != revision_) {
      auto m = set_meta("revision", r->revision);
      // Amortised: compact to `retain_` back once twice that has piled up.
      if (m && retain_ > 0 && r->revision - compacted_ >= 2 * retain_) {
        compact_to = r->revision - retain_;
        m = compact_rows(compact_to);
      }
      if (!m) r = tl::unexpected(m.error());
    }
    auto done = finish(r ? Result<void>() : Result<void>(tl::unexpected(r.error())));
    if (!done) return tl::unexpected(done.error().wrap("txn"));
    if (compact_to) compacted_ = compact_to;
    if (r->revision != revision_) signal_->advanced(revision_ = r->revision);
    return r;
  }

  Result<void> revoke(LeaseId id) {
    if (!leases_.contains(id)) return fail(std::string(kErrLeaseNotFound) + ": " + std::to_string(id));
    Txn deletes;
    {
      Use use(kv_of_lease_);
      use.integer(1, id);
      for (int rc; (rc = use.step()) != SQLITE_DONE;) {
        if (rc != SQLITE_ROW) return error("keys of lease " + std::to_string(id));
        deletes.success.push_back({StoreOp::Delete, use.column_text(0), ""});
      }
    }
    STACK_TRY(sqlite::exec(db_.get(), "BEGIN IMMEDIATE"));
    View view(*this);
    auto r = mvcc::apply_txn(view, revision_, deletes);
    Result<void> w = r ? step(Use(lease_delete_).integer(1, id), "revoke lease") : tl::unexpected(r.error());
    if (w && r->revision != revision_) w = set_meta("revision", r->revision);
    STACK_TRY_CTX(finish(w), "revoke lease " + std::to_string(id));
    if (r->revision != revision_) signal_->advanced(revision_ = r->revision);
    leases_.erase(id);
    return {};
  }

  Result<void> compact_rows(Revision revision) {
    STACK_TRY(step(Use(history_compact_).integer(1, revision), "compact"));
    return set_meta("compact_revision", revision);
  }

  // Commits when `r` holds, else (or when COMMIT fails) rolls back.
  Result<void> finish(Result<void> r) {
    if (r) r = sqlite::exec(db_.get(), "COMMIT");
    if (!r) (void)sqlite::exec(db_.get(), "ROLLBACK");
    return r;
  }

  Result<void> step(Use&& use, const std::string& what) { return step(use, what); }
  Result<void> step(Use& use, const std::string& what) {
    if (use.step() != SQLITE_DONE) return error(what);
    return {};
  }

  Result<void> set_meta(const char* name, int64_t value) {
    return step(Use(meta_set_).text(1, std::string(name)).integer(2, value), std::string("set ") + name);
  }

  std::optional<int64_t> get_meta(const char* name) {
    Use use(meta_get_);
    use.text(1, std::string(name));
    if (use.step() != SQLITE_ROW) return std::nullopt;
    return use.column_int(0);
  }

  Result<void> check_readable(Revision revision) const {
    if (revision > revision_) return future_error(revision);
    if (revision < compacted_) return compacted_error(revision);
    return {};
  }

  tl::unexpected<stack::Error> compacted_error(Revision r) const {
    return fail(std::string(kErrCompacted) + " (revision " + std::to_string(r) + ", compacted " +
                std::to_string(compacted_) + ")");
  }
  tl::unexpected<stack::Error> future_error(Revision r) const {
    return fail(std::string(kErrFutureRevision) + " (revision " + std::to_string(r) + ", current " +
                std::to_string(revision_) + ")");
  }
  tl::unexpected<stack::Error> error(const std::string& what) const { return sqlite::error(db_.get(), what); }

  std::string path_;
  StoreClock clock_;
  Revision retain_;
  std::mutex mu_;
  Revision revision_ = 1;
  Revision compacted_ = 0;
  LeaseId next_lease_ = 1;
  mvcc::LeaseTimers leases_;
  std::shared_ptr<mvcc::RevisionSignal> signal_ = std::make_shared<mvcc::RevisionSignal>();
  sqlite::Db db_;  // declared before the statements: destroyed after them
  KeyOrPrefix live_, history_at_, history_since_;
  Stmt kv_put_, kv_delete_, kv_of_lease_, history_add_, history_compact_, meta_get_, meta_set_, lease_add_,
      lease_delete_, lease_all_;
};

}  // namespace

Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::string& path, StoreOptions options) {
  return SqliteStore::open(path, std::move(options));
}

}  // namespace stack::orch
