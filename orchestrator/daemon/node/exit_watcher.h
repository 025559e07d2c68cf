// One thread that waits for many processes to exit: each watch is a pidfd in
// one epoll set, and its callback runs on this thread once the pidfd is
// readable. post() runs a callback there too (for "already exited").
//
// Ownership: the watcher owns the pidfds it was given and its thread; the
// destructor stops the thread and drops callbacks that have not run.
// Callbacks run without the watcher's lock held, so they may call add(),
// cancel() or post().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/fd.h"

namespace stack::orch {

class ExitWatcher {
 public:
  static stack::Result<std::unique_ptr<ExitWatcher>> start();
  ~ExitWatcher();

  // Replaces an earlier watch with the same key.
  stack::Result<void> add(const std::string& key, stack::UniqueFd pidfd, std::function<void()> on_exit);
  void cancel(const std::string& key);
  void post(std::function<void()> fn);

 private:
  ExitWatcher() = default;
  void loop();
  void wake();

  struct Watch {
    uint64_t token = 0;
    stack::UniqueFd pidfd;
    std::function<void()> on_exit;
  };
  stack::UniqueFd epoll_, wake_;
  std::mutex mu_;
  std::map<std::string, Watch> watches_;
  std::vector<std::function<void()>> posted_;
  uint64_t next_token_ = 1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace stack::orch
