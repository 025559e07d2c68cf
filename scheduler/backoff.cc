#include "scheduler/backoff.h"

#include <algorithm>

#include "scheduler/restart.h"

namespace stack::sched {

// One formula for both faces of backoff: this steady_clock one and the
// TimeMs one in restart_decision().
Duration Backoff::on_exit(TimePoint started, TimePoint exited) {
  if (exited - started >= policy_.stable_after) streak_ = 0;
  Ms delay = backoff_delay(policy_.initial.count(), policy_.cap.count(),
                           static_cast<int>(std::min<uint32_t>(streak_, 30)));
  streak_++;
  return Duration(delay);
}

}  // namespace stack::sched
