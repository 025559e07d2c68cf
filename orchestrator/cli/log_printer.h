// How the CLI shows container output and progress, as Compose does:
//  - LogPrinter: "web-1  | line", the prefix colored per service (colors only
//    on a terminal), padded to the widest replica name seen.
//  - UpProgress: one line per container/network updated from the event
//    stream (Pulling, Created, Started, Healthy, ...); redrawn in place on a
//    terminal, one plain line per change otherwise.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "orchestrator/api/types.h"

namespace stack::cli {

class LogPrinter {
 public:
  LogPrinter(std::string stack, bool color, bool timestamps);
  // Widens the prefix column up front (from `stack ps`).
  void reserve(const std::string& replica_name);
  void print(const orch::LogLine& line);

 private:
  std::string short_name(const std::string& replica) const;
  std::string stack_;
  bool color_, timestamps_;
  size_t width_ = 0;
  std::map<std::string, int> colors_;  // service -> palette index
  std::mutex mu_;
};

class UpProgress {
 public:
  UpProgress(std::string stack, bool tty);
  void on_event(const orch::Event& e);
  // Final state of every replica once `up` returned.
  void finish(const std::vector<orch::ReplicaView>& replicas);

 private:
  void set(const std::string& key, const std::string& status);
  void redraw();
  std::string stack_;
  bool tty_;
  std::vector<std::pair<std::string, std::string>> lines_;  // key, status, in first-seen order
  std::unordered_map<std::string, size_t> index_;            // key -> its line (an up of 30,000)
  // On a terminal the lines are drawn again at most every kRedrawEvery
  // (each draw is every line), and once more at finish().
  static constexpr std::chrono::milliseconds kRedrawEvery{50};
  std::chrono::steady_clock::time_point drawn_at_{};
  bool dirty_ = false;
  size_t drawn_ = 0;
  std::mutex mu_;
};

}  // namespace stack::cli
