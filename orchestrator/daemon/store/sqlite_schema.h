// The state store's SQLite schema and its migrations (sqlite_schema.cc).
#pragma once

#include <sqlite3.h>

#include "base/error.h"

namespace stack::orch::sqlite {

// PRAGMA user_version of the current schema. 0 is stackd's first schema
// (one table kv(key, value)) or a new, empty file.
inline constexpr int kSchemaVersion = 1;

// Brings the database to kSchemaVersion in one transaction, keeping every
// key; a database from a newer stackd is an error rather than a guess.
stack::Result<void> migrate(sqlite3* db);

}  // namespace stack::orch::sqlite
