// A clock for tests that moves only when told (orch::Clock,
// orchestrator/daemon/engine/supervisor_clock.h). Tests of the supervisor step it
// (Supervisor::step) and set the time between steps, so no test waits for a
// backoff or a probe interval to pass for real.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "orchestrator/daemon/engine/supervisor_clock.h"

namespace stack::test {

class FakeClock final : public orch::Clock {
 public:
  // A round, recognisable epoch time: 2026-01-01T00:00:00Z.
  static constexpr int64_t kStart = 1767225600000;

  explicit FakeClock(int64_t start = kStart) : now_(start) {}

  int64_t now() override {
    std::lock_guard lk(mu_);
    return now_;
  }
  // Never backwards: a test that asks for an earlier time gets the same one.
  void set(int64_t t) {
    std::lock_guard lk(mu_);
    if (t > now_) now_ = t;
  }
  void advance(int64_t ms) { set(now() + ms); }

  // Fake time does not pass while a thread waits, so a waiter must look
  // again: it wakes on a notify or after a real millisecond, whichever
  // comes first, and re-checks its condition and now(). Only threads use
  // this path; stepped supervisors never wait.
  void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lk, int64_t) override {
    cv.wait_for(lk, std::chrono::milliseconds(1));
  }

 private:
  std::mutex mu_;
  int64_t now_;
};

}  // namespace stack::test
