// A user's client under load: requests (`request` makes one and returns its
// body, "" for no answer) one after another from a thread, and what each got
// (its first line, or "FAILED"), in order. For the tests that check no
// request fails while replicas come and go (rolling updates, autoscaling).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace stack::test {

class HttpLoad {
 public:
  explicit HttpLoad(std::function<std::string()> request) : request_(std::move(request)) {}
  HttpLoad(const HttpLoad&) = delete;
  HttpLoad& operator=(const HttpLoad&) = delete;
  ~HttpLoad() { stop(); }

  void start() {
    thread_ = std::thread([this] {
      while (!stop_) {
        std::string body = request_();
        std::lock_guard lk(mu_);
        answers_.push_back(body.empty() ? "FAILED" : body.substr(0, body.find('\n')));
      }
    });
  }
  // The answers so far.
  std::vector<std::string> answers() {
    std::lock_guard lk(mu_);
    return answers_;
  }
  // Stops the thread (idempotent); every answer.
  std::vector<std::string> stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return answers();
  }

 private:
  std::function<std::string()> request_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> answers_;
};

}  // namespace stack::test
