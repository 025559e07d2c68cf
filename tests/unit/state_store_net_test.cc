// The network manager's state in stackd's store
// (orchestrator/daemon/store/net_state_store.cc): saved documents read back, a
// first start reads nothing, and the files of a stackd from before issue 13
// are imported once, so running containers keep their addresses.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/io.h"
#include "netplane/ipam.h"
#include "orchestrator/daemon/store/net_state_store.h"
#include "tests/support/bundle.h"
#include "tests/support/memory_store.h"

namespace stack::orch {
namespace {

TEST(NetStateStore, SavesIntoTheStoreAndReadsBack) {
  test::TempDir dir("netstate");
  test::MemoryStore store;
  auto s = store_net_state(store, dir.path());
  EXPECT_EQ(s->load("ipam").value(), std::nullopt) << "a first start";
  ASSERT_TRUE(s->save("ipam", R"({"version":1})"));
  EXPECT_EQ(s->load("ipam").value(), std::optional<std::string>(R"({"version":1})"));
  EXPECT_EQ(store.get("net/ipam").value(), std::optional<std::string>(R"({"version":1})"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/ipam.json")) << "no file is written any more";
}

TEST(NetStateStore, ImportsTheFilesOfAnOlderStackdOnce) {
  test::TempDir dir("netstate");
  net::Ipam ipam;
  ASSERT_TRUE(ipam.allocate_subnet("shop_default", {}));
  ASSERT_TRUE(ipam.lease("shop_default", "shop-web-1"));
  ASSERT_TRUE(ipam.save(dir.path() + "/ipam.json"));
  ASSERT_TRUE(io::write_file_atomic(dir.path() + "/networks.json", R"({"version":1})"));
  test::MemoryStore store;
  auto s = store_net_state(store, dir.path());
  auto text = s->load("ipam");
  ASSERT_TRUE(text) << text.error().message();
  ASSERT_TRUE(*text);
  net::Ipam back;
  ASSERT_TRUE(back.from_json(**text));
  EXPECT_EQ(back.lookup("shop_default", "shop-web-1"), ipam.lookup("shop_default", "shop-web-1"));
  EXPECT_EQ(store.get("net/ipam").value(), *text) << "imported into the store";
  EXPECT_EQ(s->load("networks").value(), std::optional<std::string>(R"({"version":1})"));
  // From now on the store is the truth: a save there wins over the old file.
  ASSERT_TRUE(s->save("ipam", ipam.to_json()));
  ASSERT_TRUE(ipam.release("shop_default", "shop-web-1"));
  ASSERT_TRUE(s->save("ipam", ipam.to_json()));
  EXPECT_EQ(s->load("ipam").value(), std::optional<std::string>(ipam.to_json()));
}

}  // namespace
}  // namespace stack::orch
