// The SQLite state store (orchestrator/daemon/sqlite_store.cc): keys and
// values survive a reopen, prefix listing is sorted and bounded, and a
// transaction that fails half-way leaves nothing of itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "orchestrator/daemon/state_store.h"
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

TEST(StateStore, OpenFailsWithPathInMessage) {
  auto s = open_sqlite_store("/nonexistent-dir-for-test/state.db");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("/nonexistent-dir-for-test/state.db"), std::string::npos)
      << s.error().message();
}

}  // namespace
}  // namespace stack::orch
