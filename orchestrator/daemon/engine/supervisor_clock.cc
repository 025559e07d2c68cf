#include "orchestrator/daemon/engine/supervisor_clock.h"

#include <chrono>

#include "orchestrator/daemon/engine/events.h"

namespace stack::orch {
namespace {

class SystemClock final : public Clock {
 public:
  int64_t now() override { return now_ms(); }
  void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lk, int64_t deadline) override {
    if (deadline == INT64_MAX) {
      cv.wait(lk);
      return;
    }
    cv.wait_until(lk, std::chrono::system_clock::time_point(std::chrono::milliseconds(deadline)));
  }
};

}  // namespace

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

}  // namespace stack::orch
