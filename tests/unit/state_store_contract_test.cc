// The state store's contract (tests/support/store_contract.h) on the
// tests' memory store and on SQLite, stackd's single-node store.
#include "tests/support/store_contract.h"

#include "tests/support/bundle.h"
#include "tests/support/memory_store.h"

namespace stack::orch {
namespace {

struct SqliteBackend {
  static constexpr bool kOwnLeaseClock = true;
  static constexpr bool kLazyWatch = true;
  static constexpr bool kKeepsTombstoneAtCompaction = true;
  test::TempDir dir{"store-contract"};
  std::unique_ptr<StateStore> open(StoreOptions options) {
    auto s = open_sqlite_store(dir.path() + "/state.db", std::move(options));
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return s ? std::move(*s) : nullptr;
  }
};

struct MemoryBackend {
  static constexpr bool kOwnLeaseClock = true;
  static constexpr bool kLazyWatch = true;
  static constexpr bool kKeepsTombstoneAtCompaction = true;
  std::unique_ptr<StateStore> open(StoreOptions options) { return std::make_unique<test::MemoryStore>(std::move(options)); }
};

using Backends = ::testing::Types<MemoryBackend, SqliteBackend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryBackend> ? "Memory" : "Sqlite";
  }
};
using namespace contract;  // the macro below names the suite unqualified
INSTANTIATE_TYPED_TEST_SUITE_P(Store, StoreContract, Backends, BackendNames);

}  // namespace
}  // namespace stack::orch
