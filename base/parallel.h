// Runs jobs 0..n-1 on up to `threads` threads (the caller's among them),
// each job once; returns when all are done. A job that returns false stops
// the handing out of further jobs (those already running finish). Used for
// layer unpacking and for etcd transactions in flight together.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace stack {

template <class Job>  // bool(size_t i): false stops the rest
void parallel_for(size_t n, size_t threads, Job job) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < n;)
      if (!job(i)) next = n;
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < std::min(threads, n); w++) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

}  // namespace stack
