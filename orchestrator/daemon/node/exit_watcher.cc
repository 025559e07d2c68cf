#include "orchestrator/daemon/node/exit_watcher.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace stack::orch {

stack::Result<std::unique_ptr<ExitWatcher>> ExitWatcher::start() {
  std::unique_ptr<ExitWatcher> w(new ExitWatcher());
  w->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!w->epoll_) return stack::fail_errno("epoll_create1");
  w->wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!w->wake_) return stack::fail_errno("eventfd");
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // token 0: the wake-up eventfd
  if (::epoll_ctl(w->epoll_.get(), EPOLL_CTL_ADD, w->wake_.get(), &ev) != 0) return stack::fail_errno("epoll_ctl");
  w->thread_ = std::thread([p = w.get()] { p->loop(); });
  return w;
}

ExitWatcher::~ExitWatcher() {
  stop_ = true;
  wake();
  if (thread_.joinable()) thread_.join();
}

void ExitWatcher::wake() {
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

stack::Result<void> ExitWatcher::add(const std::string& key, stack::UniqueFd pidfd, std::function<void()> on_exit) {
  std::lock_guard lk(mu_);
  if (auto it = watches_.find(key); it != watches_.end()) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.pidfd.get(), nullptr);
    watches_.erase(it);
  }
  Watch w{next_token_++, std::move(pidfd), std::move(on_exit)};
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.u64 = w.token;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, w.pidfd.get(), &ev) != 0) return stack::fail_errno("watch " + key);
  watches_.emplace(key, std::move(w));
  return {};
}

void ExitWatcher::cancel(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = watches_.find(key);
  if (it == watches_.end()) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.pidfd.get(), nullptr);
  watches_.erase(it);
}

void ExitWatcher::post(std::function<void()> fn) {
  {
    std::lock_guard lk(mu_);
    posted_.push_back(std::move(fn));
  }
  wake();
}

void ExitWatcher::loop() {
  struct epoll_event evs[32];
  while (!stop_) {
    int n = ::epoll_wait(epoll_.get(), evs, 32, -1);
    if (n < 0) continue;  // EINTR
    std::vector<std::function<void()>> due;
    {
      std::lock_guard lk(mu_);
      for (int i = 0; i < n; i++) {
        uint64_t token = evs[i].data.u64;
        if (token == 0) {
          uint64_t v;
          (void)!::read(wake_.get(), &v, sizeof v);
          continue;
        }
        for (auto it = watches_.begin(); it != watches_.end(); ++it) {
          if (it->second.token != token) continue;
          ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.pidfd.get(), nullptr);
          due.push_back(std::move(it->second.on_exit));
          watches_.erase(it);
          break;
        }
      }
      for (auto& f : posted_) due.push_back(std::move(f));
      posted_.clear();
    }
    if (stop_) return;
    for (auto& f : due) f();
  }
}

}  // namespace stack::orch
