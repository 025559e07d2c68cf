// The supervisor's time: what it is now, and a way to sleep until a deadline
// or a notification. Injected (SupervisorContext) so that the loop can be
// driven by a fake clock in tests (tests/support/fake_clock.h) instead of
// waiting for wall-clock backoffs and probe intervals.
//
// Times are ms since the Unix epoch (scheduler/model.h: persisted restart
// and health history must survive a daemon restart), so the real clock is
// the system clock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace stack::orch {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now() = 0;
  // Blocks on `cv` (releasing `lk`) until it is notified, `deadline` has
  // come (INT64_MAX: none) or spuriously: callers re-check their condition
  // and the time in a loop.
  virtual void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lk, int64_t deadline) = 0;
};

// The system clock; condition variables wait for real.
Clock& system_clock();

}  // namespace stack::orch
