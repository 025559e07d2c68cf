// Progress of pulls and pushes, reported per blob. The registry client emits
// events from its worker threads; sinks must be thread-safe. TerminalProgress
// renders them the way Docker does: one line per layer redrawn in place with
// ANSI cursor moves on a terminal, or plain lines (one per state change) when
// the output is a pipe or file.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace stack::img {

struct ProgressEvent {
  enum class State {
    Resolving,    // looking up the manifest (id = reference)
    Waiting,      // queued for a download slot
    Downloading,  // done/total bytes; `done` starts at the resumed offset
    Verifying,    // digest check and commit
    Complete,     // blob stored ("Pull complete")
    Exists,       // already in the store / registry ("Already exists")
    Uploading,
    Pushed,
    Retrying,     // message says why
    Failed,       // message says why
    Status,       // a free-form line: "Digest: sha256:..", "Status: ..."
  };
  State state = State::Status;
  std::string id;       // 12-hex short digest, or the reference for Resolving/Status
  uint64_t done = 0;    // bytes
  int64_t total = -1;   // bytes; -1 unknown
  std::string message;
};

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void event(const ProgressEvent& e) = 0;  // called from any thread
};

// "1.2MB", "45.6kB", as Docker's units.HumanSize (decimal).
std::string human_size(uint64_t bytes);
// "abc123def456: Downloading [==>      ]  1.2MB/45.6MB"
std::string render_progress_line(const ProgressEvent& e, int bar_width = 50);

class TerminalProgress : public ProgressSink {
 public:
  // `tty` < 0: decide with isatty(fd).
  explicit TerminalProgress(int fd = 1, int tty = -1);
  void event(const ProgressEvent& e) override;
  // Overall bytes done and total over the blobs seen so far (totals that are
  // unknown count as 0), for a summary line or a status API.
  std::pair<uint64_t, uint64_t> overall();

 private:
  void write_all(const std::string& s);
  std::mutex mu_;
  int fd_;
  bool tty_;
  std::vector<std::pair<std::string, ProgressEvent>> lines_;  // last event per id, in first-seen order
  std::map<std::string, std::pair<uint64_t, int64_t>> bytes_;
  std::map<std::string, std::chrono::steady_clock::time_point> redrawn_;  // tty throttle  // id -> done, total (for overall())
};

}  // namespace stack::img
