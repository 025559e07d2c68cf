// The SQLite state store (orchestrator/daemon/store/sqlite_store.cc): keys and
// values survive a reopen, prefix listing is sorted and bounded, and a
// transaction that fails half-way leaves nothing of itself; a database of the
// first schema (stackd before issue 13) opens with its keys, and revisions,
// history and leases survive a reopen. What every backend shares is in
// state_store_contract_test.cc.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "orchestrator/daemon/store/state_store.h"
#include "tests/support/bundle.h"

namespace stack::orch {
namespace {

std::unique_ptr<StateStore> open_store(const std::string& path) {
  auto s = open_sqlite_store(path);
  EXPECT_TRUE(s) << (s ? "" : s.error().message());
  return s ? std::move(*s) : nullptr;
}

std::vector<std::string> keys(StateStore& s, const std::string& prefix) {
  auto l = s.list(prefix);
  EXPECT_TRUE(l);
  std::vector<std::string> out;
  if (l)
    for (auto& [k, v] : *l) out.push_back(k);
  return out;
}

TEST(StateStore, PutGetOverwriteRemove) {
  test::TempDir dir("store");
  auto s = open_store(dir.path() + "/state.db");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->get("stacks/a").value(), std::nullopt);
  ASSERT_TRUE(s->put("stacks/a", R"({"goal":"up"})"));
  EXPECT_EQ(s->get("stacks/a").value(), std::optional<std::string>(R"({"goal":"up"})"));
  ASSERT_TRUE(s->put("stacks/a", R"({"goal":"stopped"})"));
  EXPECT_EQ(s->get("stacks/a").value(), std::optional<std::string>(R"({"goal":"stopped"})"));
  ASSERT_TRUE(s->remove("stacks/a"));
  EXPECT_EQ(s->get("stacks/a").value(), std::nullopt);
  EXPECT_TRUE(s->remove("stacks/a")) << "removing an absent key is not an error";
}

TEST(StateStore, ValuesKeepEmbeddedNulAndUtf8) {
  test::TempDir dir("store");
  auto s = open_store(dir.path() + "/state.db");
  ASSERT_TRUE(s);
  std::string v("a\0b\xc3\xa9", 5);
  ASSERT_TRUE(s->put("k", v));
  EXPECT_EQ(s->get("k").value(), std::optional<std::string>(v));
}

TEST(StateStore, ListIsSortedAndBoundedByPrefix) {
  test::TempDir dir("store");
  auto s = open_store(dir.path() + "/state.db");
  ASSERT_TRUE(s);
  for (auto k : {"replicas/web/b/2", "replicas/web/a/1", "replicas/we", "replicas/wf/a/1", "stacks/web",
                 "replicas/web/a/10"})
    ASSERT_TRUE(s->put(k, "{}"));
  EXPECT_EQ(keys(*s, "replicas/web/"),
            (std::vector<std::string>{"replicas/web/a/1", "replicas/web/a/10", "replicas/web/b/2"}));
  EXPECT_EQ(keys(*s, "replicas/we").size(), 4u);
  EXPECT_EQ(keys(*s, "").size(), 6u);
  EXPECT_TRUE(keys(*s, "nothing/").empty());
}

TEST(StateStore, CommitAppliesPutsDeletesAndPrefixDeletesTogether) {
  test::TempDir dir("store");
  auto s = open_store(dir.path() + "/state.db");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put("replicas/shop/web/1", "{}"));
  ASSERT_TRUE(s->put("replicas/shop/web/2", "{}"));
  ASSERT_TRUE(s->put("replicas/shopx/web/1", "{}"));
  ASSERT_TRUE(s->put("stacks/shop", "{}"));
  ASSERT_TRUE(s->commit({{StoreOp::DeletePrefix, "replicas/shop/", ""},
                         {StoreOp::Delete, "stacks/shop", ""},
                         {StoreOp::Put, "events/1", R"({"type":"down"})"}}));
  EXPECT_EQ(keys(*s, ""), (std::vector<std::string>{"events/1", "replicas/shopx/web/1"}));
}

TEST(StateStore, SurvivesReopen) {
  test::TempDir dir("store");
  std::string path = dir.path() + "/state.db";
  {
    auto s = open_store(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->commit({{StoreOp::Put, "stacks/a", "1"}, {StoreOp::Put, "stacks/b", "2"}}));
  }
  auto s = open_store(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(keys(*s, "stacks/"), (std::vector<std::string>{"stacks/a", "stacks/b"}));
  EXPECT_EQ(s->get("stacks/b").value(), std::optional<std::string>("2"));
}

// A commit whose write fails (here: the file size limit, as a full disk
// would) returns an error and leaves none of its operations behind, in the
// same connection and after a reopen. Run in a child so the limit stays there.
TEST(StateStore, FailedCommitLeavesNothing) {
  test::TempDir dir("store");
  std::string path = dir.path() + "/state.db";
  {
    auto s = open_store(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put("keep", "old"));
  }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    auto s = open_sqlite_store(path);
    if (!s) ::_exit(10);
    rlimit lim{256 * 1024, 256 * 1024};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    auto r = (*s)->commit({{StoreOp::Put, "keep", "new"},
                           {StoreOp::Put, "small", "x"},
                           {StoreOp::Put, "huge", std::string(4 << 20, 'h')}});
    if (r) ::_exit(11);
    auto keep = (*s)->get("keep");
    auto small = (*s)->get("small");
    if (!keep || *keep != std::optional<std::string>("old")) ::_exit(12);
    if (!small || small->has_value()) ::_exit(13);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 open, 11 commit succeeded, 12/13 partial commit visible";
  auto s = open_store(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(keys(*s, ""), (std::vector<std::string>{"keep"}));
  EXPECT_EQ(s->get("keep").value(), std::optional<std::string>("old"));
}

TEST(StateStore, ConcurrentWritersAllLand) {
  test::TempDir dir("store");
  auto s = open_store(dir.path() + "/state.db");
  ASSERT_TRUE(s);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto k = "replicas/s/" + std::to_string(t) + "/" + std::to_string(i);
        EXPECT_TRUE(s->commit({{StoreOp::Put, k, "{}"}}));
        EXPECT_TRUE(s->get(k).value().has_value());
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(keys(*s, "replicas/s/").size(), 200u);
}

// Writes a database as stackd wrote it before issue 13: one table kv(key,
// value), WAL, user_version 0.
void write_first_schema(const std::string& path, const std::vector<std::pair<std::string, std::string>>& rows) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto exec = [&](const std::string& sql) { EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql; };
  exec("PRAGMA journal_mode=WAL");
  exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID");
  for (const auto& [k, v] : rows) exec("INSERT INTO kv(key, value) VALUES('" + k + "', '" + v + "')");
  sqlite3_close(db);
}

TEST(StateStore, OpensADatabaseOfTheFirstSchemaWithItsKeys) {
  test::TempDir dir("store");
  std::string path = dir.path() + "/state.db";
  write_first_schema(path, {{"stacks/shop", R"({"goal":"up"})"}, {"replicas/shop/web/1", "{}"}, {"events/7", "{}"}});
  {
    auto s = open_store(path);
    ASSERT_TRUE(s);
    EXPECT_EQ(keys(*s, ""), (std::vector<std::string>{"events/7", "replicas/shop/web/1", "stacks/shop"}));
    EXPECT_EQ(s->get("stacks/shop").value(), std::optional<std::string>(R"({"goal":"up"})"));
    // As if one txn had written them into an empty store (revision 1).
    EXPECT_EQ(s->revision().value(), 2);
    auto kv = s->range("stacks/shop");
    ASSERT_TRUE(kv);
    ASSERT_EQ(kv->kvs.size(), 1u);
    EXPECT_EQ(kv->kvs[0], (KeyValue{"stacks/shop", R"({"goal":"up"})", 2, 2, 1, 0}));
    auto w = s->watch("", WatchOptions{true, 2});
    ASSERT_TRUE(w);
    EXPECT_EQ((*w)->poll().value().size(), 3u) << "the imported keys are revision 2's events";
    ASSERT_TRUE(s->put("stacks/shop", R"({"goal":"down"})"));
    EXPECT_EQ(s->range("stacks/shop")->kvs.at(0), (KeyValue{"stacks/shop", R"({"goal":"down"})", 2, 3, 2, 0}));
  }
  auto again = open_store(path);  // migrated once: nothing is imported twice
  ASSERT_TRUE(again);
  EXPECT_EQ(again->revision().value(), 3);
  EXPECT_EQ(keys(*again, "").size(), 3u);
}

TEST(StateStore, AnEmptyDatabaseOfTheFirstSchemaStartsAtRevisionOne) {
  test::TempDir dir("store");
  std::string path = dir.path() + "/state.db";
  write_first_schema(path, {});
  auto s = open_store(path);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->revision().value(), 1);
  EXPECT_TRUE(keys(*s, "").empty());
}

TEST(StateStore, RefusesADatabaseOfANewerSchema) {
  test::TempDir dir("store");
  std::string path = dir.path() + "/state.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = open_sqlite_store(path);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("schema version 99"), std::string::npos) << s.error().message();
}

// Revisions, history, compaction and leases are in the file; lease deadlines
// are not (monotonic time): a reopened store restarts each lease's TTL.
TEST(StateStore, RevisionsHistoryAndLeasesSurviveReopen) {
  test::TempDir dir("store");
  std::string path = dir.path() + "/state.db";
  auto now = std::chrono::steady_clock::time_point(std::chrono::seconds(100));
  StoreOptions options{[&] { return now; }, 0};
  LeaseId lease = 0;
  {
    auto s = open_sqlite_store(path, options);
    ASSERT_TRUE(s);
    lease = (*s)->lease_grant(30).value();
    ASSERT_TRUE((*s)->commit({{StoreOp::Put, "nodes/n1", "up", lease}}));  // 2
    ASSERT_TRUE((*s)->put("a", "1"));                                       // 3
    ASSERT_TRUE((*s)->put("a", "2"));                                       // 4
    ASSERT_TRUE((*s)->compact(3));
  }
  now += std::chrono::seconds(60);  // past the TTL while no store was open
  auto s = open_sqlite_store(path, options);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->revision().value(), 4);
  EXPECT_EQ((*s)->range("a", RangeOptions{false, 3})->kvs.at(0).value, "1");
  EXPECT_FALSE((*s)->range("a", RangeOptions{false, 2})) << "compacted before the reopen";
  EXPECT_EQ((*s)->range("nodes/n1")->kvs.at(0).lease, lease);
  EXPECT_NE((*s)->lease_grant(5).value(), lease) << "lease ids are not reused";
  EXPECT_TRUE((*s)->expire_leases().value().empty()) << "the TTL restarted at the reopen";
  now += std::chrono::seconds(30);
  EXPECT_EQ((*s)->expire_leases().value(), (std::vector<LeaseId>{lease, lease + 1}));
  EXPECT_FALSE((*s)->get("nodes/n1").value());
}

TEST(StateStore, OpenFailsWithPathInMessage) {
  auto s = open_sqlite_store("/nonexistent-dir-for-test/state.db");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("/nonexistent-dir-for-test/state.db"), std::string::npos)
      << s.error().message();
}

}  // namespace
}  // namespace stack::orch
