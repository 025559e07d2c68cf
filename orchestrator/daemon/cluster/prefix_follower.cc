#include "orchestrator/daemon/cluster/prefix_follower.h"

#include <spdlog/spdlog.h>

namespace stack::orch {

using namespace std::chrono_literals;

stack::Result<std::unique_ptr<PrefixFollower>> PrefixFollower::start(StateStore& store, std::string prefix,
                                                                     Apply apply, std::function<void()> relisted) {
  std::unique_ptr<PrefixFollower> f(
      new PrefixFollower(store, std::move(prefix), std::move(apply), std::move(relisted)));
  auto from = f->list();
  if (!from) return tl::unexpected(from.error().wrap("read " + f->prefix_));
  f->thread_ = std::thread([raw = f.get(), rev = *from] { raw->run(rev); });
  return f;
}

PrefixFollower::~PrefixFollower() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

stack::Result<Revision> PrefixFollower::list() {
  auto listed = store_.range(prefix_, RangeOptions{true, 0});
  if (!listed) return tl::unexpected(listed.error());
  std::set<std::string> present;
  for (const auto& kv : listed->kvs) {
    std::string rest = kv.key.substr(prefix_.size());
    present.insert(rest);
    apply_(rest, &kv.value);
  }
  for (const auto& k : known_)
    if (!present.count(k)) apply_(k, nullptr);
  known_ = std::move(present);
  return listed->revision + 1;
}

void PrefixFollower::run(Revision from) {
  while (!stopping_) {
    if (from == 0) {
      auto listed = list();
      if (!listed) {
        for (int i = 0; i < 10 && !stopping_; i++) std::this_thread::sleep_for(100ms);
        continue;
      }
      from = *listed;
      if (relisted_) relisted_();
    }
    auto w = store_.watch(prefix_, WatchOptions{true, from});
    from = 0;
    if (!w) continue;
    while (!stopping_) {
      auto events = (*w)->wait(500ms);
      if (!events) {
        spdlog::warn("cluster: watch {}: {} (listing again)", prefix_, events.error().message());
        break;
      }
      for (const auto& e : *events) {
        std::string rest = e.kv.key.substr(prefix_.size());
        if (e.type == WatchEvent::Put) known_.insert(rest);
        else known_.erase(rest);
        apply_(rest, e.type == WatchEvent::Put ? &e.kv.value : nullptr);
      }
    }
  }
}

}  // namespace stack::orch
