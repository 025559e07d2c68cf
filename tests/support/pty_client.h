// A program run on a terminal the test drives, as a user at a keyboard
// would: the child gets a new session whose controlling terminal is the
// slave of a fresh pty (so it sees isatty, raw mode works, and a window
// size change sends it SIGWINCH); the test types into the master and reads
// what the program shows. Reads wait for expected text with a bound (a wait
// for the system, never a timing assertion).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/fd.h"

namespace stack::test {

class PtyClient {
 public:
  // Starts argv with the window `rows` x `cols`.
  PtyClient(const std::vector<std::string>& argv, unsigned rows, unsigned cols);
  ~PtyClient();  // SIGKILLs a child still running
  PtyClient(const PtyClient&) = delete;
  PtyClient& operator=(const PtyClient&) = delete;

  bool started() const { return pid_ > 0; }
  void type(const std::string& keys);
  // Sets the window size (the kernel signals the child's foreground group).
  void resize(unsigned rows, unsigned cols);
  // Reads until everything shown so far contains `text`; false after `limit`.
  bool wait_for_output(const std::string& text, std::chrono::seconds limit = std::chrono::seconds(60));
  const std::string& output() const { return shown_; }
  // The child's exit status (128+signal when killed); -1 when it did not
  // exit within `limit`.
  int wait_exit(std::chrono::seconds limit = std::chrono::seconds(60));

 private:
  void drain(int timeout_ms);
  stack::UniqueFd master_;
  pid_t pid_ = -1;
  std::string shown_;
};

}  // namespace stack::test
