// StateStore over SQLite: one table kv(key PRIMARY KEY, value), WAL journal
// with synchronous=NORMAL (a crash loses at most the last transactions, never
// the file's consistency), every statement prepared once. One connection
// behind a mutex: stackd's writes are small and few, and SQLite serialises
// writers anyway.
//
// Ownership: SqliteStore owns the connection and its prepared statements
// (RAII deleters below); statements are finalized before the connection
// closes (member order).
#include <sqlite3.h>
#include <sys/stat.h>

#include <memory>
#include <mutex>

#include "orchestrator/daemon/state_store.h"

namespace stack::orch {

namespace {

using rt::fail;
using rt::Result;

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbClose>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

// Resets a prepared statement when the use of it ends, whatever the path.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
  ~StmtUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

// The smallest string greater than every string starting with `prefix`
// (BINARY collation compares bytes): "a/b" -> "a/c". nullopt when there is
// none (empty prefix, or only 0xff bytes): then the range is unbounded.
std::optional<std::string> prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

class SqliteStore final : public StateStore {
 public:
  static Result<std::unique_ptr<StateStore>> open(const std::string& path) {
    auto store = std::unique_ptr<SqliteStore>(new SqliteStore(path));
    STACK_TRY_CTX(store->init(), "state store " + path);
    return std::unique_ptr<StateStore>(std::move(store));
  }

  Result<std::optional<std::string>> get(const std::string& key) override {
    std::lock_guard lock(mu_);
    StmtUse use(get_.get());
    STACK_TRY(bind(use.get(), 1, key));
    int rc = sqlite3_step(use.get());
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return error("get " + key);
    return std::optional<std::string>(column(use.get(), 0));
  }

  Result<void> put(const std::string& key, const std::string& value) override {
    std::lock_guard lock(mu_);
    return do_put(key, value);
  }

  Result<void> remove(const std::string& key) override {
    std::lock_guard lock(mu_);
    return do_delete(key);
  }

  Result<std::vector<std::pair<std::string, std::string>>> list(const std::string& prefix) override {
    std::lock_guard lock(mu_);
    StmtUse use(list_.get());
    STACK_TRY(bind_range(use.get(), prefix));
    std::vector<std::pair<std::string, std::string>> out;
    for (;;) {
      int rc = sqlite3_step(use.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return error("list " + prefix);
      out.emplace_back(column(use.get(), 0), column(use.get(), 1));
    }
    return out;
  }

  Result<void> commit(const std::vector<StoreOp>& ops) override {
    std::lock_guard lock(mu_);
    STACK_TRY(exec("BEGIN IMMEDIATE"));
    for (const auto& op : ops) {
      Result<void> r;
      switch (op.kind) {
        case StoreOp::Put: r = do_put(op.key, op.value); break;
        case StoreOp::Delete: r = do_delete(op.key); break;
        case StoreOp::DeletePrefix: r = do_delete_prefix(op.key); break;
      }
      if (!r) {
        (void)exec("ROLLBACK");
        return tl::unexpected(r.error().wrap("commit"));
      }
    }
    auto done = exec("COMMIT");
    if (!done) {
      (void)exec("ROLLBACK");
      return tl::unexpected(done.error().wrap("commit"));
    }
    return {};
  }

 private:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}

  Result<void> init() {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &raw,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw);  // a failed open still returns a handle to close
    if (rc != SQLITE_OK) return fail(std::string("open: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    ::chmod(path_.c_str(), 0600);  // container facts and env values: root only
    sqlite3_extended_result_codes(db_.get(), 1);
    STACK_TRY(exec("PRAGMA journal_mode=WAL"));
    STACK_TRY(exec("PRAGMA synchronous=NORMAL"));
    STACK_TRY(exec("PRAGMA busy_timeout=5000"));
    STACK_TRY(exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) "
                   "WITHOUT ROWID"));
    STACK_TRY(prepare(get_, "SELECT value FROM kv WHERE key = ?1"));
    STACK_TRY(prepare(put_, "INSERT INTO kv(key, value) VALUES(?1, ?2) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    STACK_TRY(prepare(delete_, "DELETE FROM kv WHERE key = ?1"));
    STACK_TRY(prepare(list_, "SELECT key, value FROM kv WHERE key >= ?1 AND (?2 IS NULL OR key < ?2) "
                             "ORDER BY key"));
    STACK_TRY(prepare(delete_prefix_, "DELETE FROM kv WHERE key >= ?1 AND (?2 IS NULL OR key < ?2)"));
    return {};
  }

  Result<void> prepare(Stmt& out, const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
      return error(std::string("prepare ") + sql);
    out.reset(s);
    return {};
  }

  Result<void> exec(const char* sql) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) return error(sql);
    return {};
  }

  Result<void> bind(sqlite3_stmt* s, int index, const std::string& text) {
    if (sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK)
      return error("bind");
    return {};
  }

  Result<void> bind_range(sqlite3_stmt* s, const std::string& prefix) {
    STACK_TRY(bind(s, 1, prefix));
    if (auto end = prefix_end(prefix)) STACK_TRY(bind(s, 2, *end));
    return {};  // ?2 left NULL: no upper bound
  }

  static std::string column(sqlite3_stmt* s, int i) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
  }

  Result<void> step_done(sqlite3_stmt* s, const std::string& what) {
    if (sqlite3_step(s) != SQLITE_DONE) return error(what);
    return {};
  }

  Result<void> do_put(const std::string& key, const std::string& value) {
    StmtUse use(put_.get());
    STACK_TRY(bind(use.get(), 1, key));
    STACK_TRY(bind(use.get(), 2, value));
    return step_done(use.get(), "put " + key);
  }

  Result<void> do_delete(const std::string& key) {
    StmtUse use(delete_.get());
    STACK_TRY(bind(use.get(), 1, key));
    return step_done(use.get(), "delete " + key);
  }

  Result<void> do_delete_prefix(const std::string& prefix) {
    StmtUse use(delete_prefix_.get());
    STACK_TRY(bind_range(use.get(), prefix));
    return step_done(use.get(), "delete prefix " + prefix);
  }

  tl::unexpected<rt::Error> error(const std::string& what) const {
    return fail(what + ": " + sqlite3_errmsg(db_.get()));
  }

  std::string path_;
  std::mutex mu_;
  Db db_;  // declared before the statements: destroyed after them
  Stmt get_, put_, delete_, list_, delete_prefix_;
};

}  // namespace

Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::string& path) {
  return SqliteStore::open(path);
}

}  // namespace stack::orch
