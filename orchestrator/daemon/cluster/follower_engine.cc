#include "orchestrator/daemon/cluster/follower_engine.h"

namespace stack::orch {
namespace {

class FollowerEngine final : public Engine {
 public:
  explicit FollowerEngine(std::string reason) : reason_(std::move(reason)) {}

  stack::Result<void> restore() override { return {}; }
  stack::Result<std::vector<ReplicaView>> up(const compose::Project&, const UpOptions&) override { return no(); }
  stack::Result<void> down(const std::string&, bool) override { return no(); }
  stack::Result<void> stop(const std::string&, const std::vector<std::string>&) override { return no(); }
  stack::Result<void> start(const std::string&, const std::vector<std::string>&) override { return no(); }
  stack::Result<void> restart(const std::string&, const std::vector<std::string>&) override { return no(); }
  stack::Result<void> scale(const std::string&, const std::map<std::string, int>&) override { return no(); }
  std::vector<StackView> stacks() override { return {}; }
  stack::Result<compose::Project> project(const std::string&) override { return no(); }
  stack::Result<std::vector<ReplicaView>> ps(const std::string&) override { return no(); }
  stack::Result<void> logs(const std::string&, const LogOptions&, const std::function<bool(const LogLine&)>&,
                           const std::atomic<bool>&) override {
    return no();
  }
  stack::Result<std::unique_ptr<ExecSession>> exec(const ExecRequest&) override { return no(); }
  stack::Result<std::unique_ptr<ExecSession>> run(const ExecRequest&, bool) override { return no(); }
  stack::Result<std::string> top(const std::string&) override { return no(); }
  stack::Result<std::string> stats(const std::string&) override { return no(); }
  Subscription subscribe(uint64_t, std::function<void(const Event&)>) override { return std::make_shared<int>(0); }
  void shutdown() override {}

 private:
  tl::unexpected<stack::Error> no() const { return stack::fail(reason_, ENOTCONN); }
  std::string reason_;
};

}  // namespace

std::unique_ptr<Engine> make_follower_engine(std::string reason) {
  return std::make_unique<FollowerEngine>(std::move(reason));
}

}  // namespace stack::orch
