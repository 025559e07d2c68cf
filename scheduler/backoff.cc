#include "scheduler/backoff.h"

#include <algorithm>

namespace stack::sched {

Duration Backoff::on_exit(TimePoint started, TimePoint exited) {
  if (exited - started >= policy_.stable_after) streak_ = 0;
  // Shift at most 30 times: beyond that the cap has long been reached.
  uint32_t shift = std::min<uint32_t>(streak_, 30);
  auto delay = policy_.initial * (int64_t{1} << shift);
  streak_++;
  return std::min(delay, policy_.cap);
}

}  // namespace stack::sched
