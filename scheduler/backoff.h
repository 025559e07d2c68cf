// Restart backoff as pure arithmetic with time passed in (no clocks, no
// syscalls): the delay before the n-th consecutive restart doubles from
// `initial` up to `cap`, and the streak resets once a replica has run
// `stable_after` without failing (Docker: 100 ms doubling, reset after 10 s).
#pragma once

#include <chrono>
#include <cstdint>

namespace stack::sched {

using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

struct BackoffPolicy {
  Duration initial{100};
  Duration cap{std::chrono::seconds(60)};
  Duration stable_after{std::chrono::seconds(10)};
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}) : policy_(policy) {}
  // The replica started at `started` and exited at `exited`; returns how long
  // to wait before starting it again.
  Duration on_exit(TimePoint started, TimePoint exited);
  uint32_t streak() const { return streak_; }
  void reset() { streak_ = 0; }

 private:
  BackoffPolicy policy_;
  uint32_t streak_ = 0;
};

}  // namespace stack::sched
