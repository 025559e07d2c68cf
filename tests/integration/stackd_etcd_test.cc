// stackd with its state in etcd (--etcd-endpoints) instead of <root>/state.db:
// a stack comes up and its desired and observed state are etcd keys; a
// SIGKILLed stackd's successor on the same root adopts the stack at once; a
// second stackd on the same etcd prefix is refused, naming the holder; an
// etcd that does not answer stops stackd with a clear error.
#include <signal.h>

#include <filesystem>

#include "tests/integration/stack_cli_fixture.h"
#include "tests/support/etcd_fixture.h"

namespace stack::test {
namespace {

class StackdOnEtcd : public StackdFixture {
 protected:
  void SetUp() override {
    auto why = EtcdFixture::skip_reason();
    if (!why.empty()) GTEST_SKIP() << why;
    ASSERT_EQ(etcd_.start(), "");
    StackdFixture::SetUp();
  }
  std::vector<std::string> daemon_flags() override { return {"--etcd-endpoints", etcd_.endpoint()}; }

  std::unique_ptr<orch::StateStore> peek() {
    auto s = orch::open_etcd_store(etcd_.client_options());
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return s ? std::move(*s) : nullptr;
  }
  // Another stackd with its own root and socket, in the foreground; what it
  // printed and its exit status.
  CmdResult second_stackd(const std::vector<std::string>& flags) {
    std::string dir = dir_.path() + "/second";
    std::vector<std::string> argv = {binary("stackd"), "--foreground", "--root", dir + "/root", "--socket",
                                     dir + "/stackd.sock", "--runtime-root", run_dir_ + "/runtime2", "--netns-dir",
                                     run_dir_ + "/netns2"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return run(argv);
  }

  EtcdFixture etcd_;
  std::vector<std::string> shop_ = {"-f", example("shop.yaml")};
};

TEST_F(StackdOnEtcd, TheStackLivesInEtcdAndASuccessorAdoptsIt) {
  if (port_in_use(8080)) GTEST_SKIP() << "a host process listens on port 8080";
  auto up = stack({"up", "-d", "-f", example("shop.yaml")});
  ASSERT_EQ(up.status, 0) << up.err;
  ASSERT_TRUE(wait_for([&] { return http_get(8080).find("shop web") != std::string::npos; }));
  EXPECT_FALSE(std::filesystem::exists(root() + "/state.db")) << "no SQLite store beside etcd";

  auto store = peek();
  ASSERT_TRUE(store);
  auto stacks = store->list("stacks/");
  ASSERT_TRUE(stacks);
  ASSERT_EQ(stacks->size(), 1u);
  EXPECT_EQ((*stacks)[0].first, "stacks/shop");
  auto replicas = store->list("replicas/shop/");
  ASSERT_TRUE(replicas);
  EXPECT_GE(replicas->size(), 5u) << "db, api, worker and two web replicas";
  auto owner = store->get("owner");
  ASSERT_TRUE(owner && *owner);
  EXPECT_NE(owner->value().find("root " + root()), std::string::npos) << owner->value();

  // One engine per prefix: a second stackd is refused and names the holder.
  auto second = second_stackd({"--etcd-endpoints", etcd_.endpoint()});
  EXPECT_NE(second.status, 0);
  EXPECT_NE(second.err.find("held by stackd on"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("--etcd-prefix"), std::string::npos) << second.err;
  EXPECT_EQ(store->get("owner").value(), *owner) << "the refused stackd changed nothing";

  // A crash: the successor on the same root takes the store over at once
  // (not after the owner key's TTL) and adopts the running containers.
  auto before = ps(shop_);
  stop_daemon(SIGKILL);
  start_daemon(daemon_flags());
  auto after = ps(shop_);
  ASSERT_EQ(after.size(), before.size());
  for (auto& r : before)
    EXPECT_EQ(replica(after, r["name"]).value("container_id", ""), r["container_id"]) << r["name"];
  EXPECT_NE(store->get("owner").value().value_or(""), *owner) << "the new stackd holds it now";

  // A clean stop gives the store back at once.
  stop_daemon(SIGTERM);
  EXPECT_FALSE(store->get("owner").value().has_value());
  start_daemon(daemon_flags());  // for TearDown's down
}

TEST_F(StackdOnEtcd, AnEtcdThatDoesNotAnswerStopsStackdWithAClearError) {
  auto r = second_stackd({"--etcd-endpoints", "127.0.0.1:1"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("etcd at 127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/second/stackd.sock")) << "nothing served";
  auto bad = second_stackd({"--etcd-endpoints", "no-port"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("host:port"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace stack::test
