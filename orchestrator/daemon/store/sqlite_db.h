// Small RAII helpers over the SQLite C API for the state store
// (sqlite_store.cc, sqlite_schema.cc): the connection and prepared statements
// as unique_ptrs, a statement use that resets itself, binds and columns.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/error.h"

namespace stack::orch::sqlite {

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbClose>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

inline tl::unexpected<stack::Error> error(sqlite3* db, const std::string& what) {
  return stack::fail(what + ": " + sqlite3_errmsg(db));
}

inline stack::Result<void> exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return error(db, sql);
  return {};
}

inline stack::Result<void> prepare(sqlite3* db, Stmt& out, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    return error(db, "prepare " + sql);
  out.reset(s);
  return {};
}

// One use of a prepared statement: binds, steps, and resets it at scope exit
// whatever the path, so the next use starts clean.
class Use {
 public:
  explicit Use(const Stmt& s) : s_(s.get()) {}
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& text(int i, const std::string& v) {
    ok_ = ok_ && sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) == SQLITE_OK;
    return *this;
  }
  Use& text(int i, const std::optional<std::string>& v) { return v ? text(i, *v) : *this; }  // unbound: NULL
  Use& integer(int i, int64_t v) {
    ok_ = ok_ && sqlite3_bind_int64(s_, i, v) == SQLITE_OK;
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE, or an error code (also when a bind failed).
  int step() { return ok_ ? sqlite3_step(s_) : SQLITE_MISUSE; }
  std::string column_text(int i) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, i))) : std::string();
  }
  int64_t column_int(int i) const { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3_stmt* s_;
  bool ok_ = true;
};

}  // namespace stack::orch::sqlite
