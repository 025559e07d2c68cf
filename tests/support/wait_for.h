// Polls `cond` (every 200 ms) until it holds; false after `limit`. A wait
// for the system to converge, never a timing assertion.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace stack::test {

inline bool wait_for(const std::function<bool()>& cond, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return cond();
}

}  // namespace stack::test
