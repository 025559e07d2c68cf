#include "orchestrator/daemon/store/net_state_store.h"

namespace stack::orch {

namespace {

class StoreNetState final : public net::NetStateStorage {
 public:
  StoreNetState(StateStore& store, std::string legacy_dir)
      : store_(store), legacy_(net::file_net_state_storage(std::move(legacy_dir))) {}

  stack::Result<std::optional<std::string>> load(const std::string& name) override {
    auto v = store_.get(key_of(name));
    if (!v) return tl::unexpected(v.error());
    if (*v) return v;
    auto old = legacy_->load(name);
    if (!old || !*old) return old;
    // Create-if-absent: never overwrite what a save wrote meanwhile.
    auto imported = store_.txn(Txn{{Compare::absent(key_of(name))}, {{StoreOp::Put, key_of(name), **old}}, {}});
    if (!imported) return tl::unexpected(imported.error().wrap("import " + name + ".json"));
    return old;
  }

  stack::Result<void> save(const std::string& name, const std::string& text) override {
    return store_.put(key_of(name), text);
  }

  std::string where(const std::string& name) const override { return "state store key " + key_of(name); }

 private:
  static std::string key_of(const std::string& name) { return "net/" + name; }
  StateStore& store_;
  std::unique_ptr<net::NetStateStorage> legacy_;
};

}  // namespace

std::unique_ptr<net::NetStateStorage> store_net_state(StateStore& store, std::string legacy_dir) {
  return std::make_unique<StoreNetState>(store, std::move(legacy_dir));
}

}  // namespace stack::orch
