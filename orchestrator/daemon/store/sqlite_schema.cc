// Schema 1 (issue 13, etcd's model):
//   kv       the live keys, with create_revision, mod_revision, version, lease
//   history  every put and delete (tombstone = 1) since the compacted
//            revision, by (revision, sub): what range-at-revision and watches
//            read; compaction deletes what no retained revision needs
//   lease    granted leases and their TTL (deadlines are not persisted: a
//            reopened store restarts them, see store_leases.h)
//   meta     revision, compact_revision, next_lease
//
// From schema 0 (kv(key, value) only) every existing key becomes version 1,
// created and modified at revision 2, as if one transaction had written them
// into an empty etcd (whose revision is 1); an empty database stays at 1.
#include "orchestrator/daemon/store/sqlite_schema.h"

#include <string>

#include "orchestrator/daemon/store/sqlite_db.h"

namespace stack::orch::sqlite {

namespace {

constexpr const char* kSchema0 =
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID";

constexpr const char* kMigrate0To1 = R"sql(
ALTER TABLE kv ADD COLUMN create_revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kv ADD COLUMN mod_revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kv ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kv ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;
CREATE INDEX kv_lease ON kv(lease) WHERE lease != 0;
CREATE TABLE history (
  revision INTEGER NOT NULL, sub INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  create_revision INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL,
  tombstone INTEGER NOT NULL, PRIMARY KEY (revision, sub)) WITHOUT ROWID;
CREATE INDEX history_key ON history(key, revision);
CREATE TABLE lease (id INTEGER PRIMARY KEY NOT NULL, ttl INTEGER NOT NULL);
CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
UPDATE kv SET create_revision = 2, mod_revision = 2, version = 1;
INSERT INTO history (revision, sub, key, value, create_revision, version, lease, tombstone)
  SELECT 2, row_number() OVER (ORDER BY key) - 1, key, value, 2, 1, 0, 0 FROM kv;
INSERT INTO meta (name, value) VALUES
  ('revision', CASE WHEN EXISTS (SELECT 1 FROM kv) THEN 2 ELSE 1 END),
  ('compact_revision', 0),
  ('next_lease', 1);
PRAGMA user_version = 1;
)sql";

stack::Result<int> user_version(sqlite3* db) {
  Stmt s;
  STACK_TRY(prepare(db, s, "PRAGMA user_version"));
  Use use(s);
  if (use.step() != SQLITE_ROW) return error(db, "PRAGMA user_version");
  return static_cast<int>(use.column_int(0));
}

stack::Result<void> migrate_in_txn(sqlite3* db) {
  auto version = user_version(db);
  if (!version) return tl::unexpected(version.error());
  if (*version > kSchemaVersion)
    return stack::fail("schema version " + std::to_string(*version) + " is newer than this stackd's (" +
                    std::to_string(kSchemaVersion) + ")");
  if (*version == 0) {
    STACK_TRY(exec(db, kSchema0));
    STACK_TRY_CTX(exec(db, kMigrate0To1), "migrate schema 0 to 1");
  }
  return {};
}

}  // namespace

stack::Result<void> migrate(sqlite3* db) {
  // IMMEDIATE: two stackd starting at once must not both migrate.
  STACK_TRY(exec(db, "BEGIN IMMEDIATE"));
  auto r = migrate_in_txn(db);
  if (r) r = exec(db, "COMMIT");
  if (!r) (void)exec(db, "ROLLBACK");
  return r;
}

}  // namespace stack::orch::sqlite
