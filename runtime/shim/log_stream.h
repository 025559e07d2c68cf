// One of the container's output pipes (stdout or stderr), read by the shim
// and cut into records for the LogWriter: one record per line, and a line
// longer than kMaxLine is written in kMaxLine pieces without their '\n'
// (Docker's 16 KiB partial messages). A partial line waits in the buffer
// until its newline arrives, the buffer fills, or the pipe closes.
//
// The pipe's read end is owned here (non-blocking); the container holds the
// write end. The buffer is fixed: reading never allocates, and when the log
// is slow the kernel's pipe buffer holds the rest (the container then blocks
// on write, as with Docker's blocking mode).
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "base/error.h"
#include "base/fd.h"
#include "runtime/shim/log_writer.h"

namespace stack::shim {

class LogStream {
 public:
  static constexpr size_t kMaxLine = 16 * 1024;

  // Gets every chunk read, as read, before it is cut into records: the
  // attach socket's output (attach.h).
  using Tee = std::function<void(std::string_view chunk)>;

  LogStream(stack::UniqueFd fd, const char* name, Tee tee = {})
      : fd_(std::move(fd)), name_(name), tee_(std::move(tee)) {}
  int fd() const { return fd_.get(); }
  bool open() const { return fd_.valid(); }

  enum class Read { Data, Empty, Closed };
  // Reads what the pipe holds (a bounded number of reads, so the other
  // stream gets its turn) and queues complete records. Closed: EOF or an
  // error; the partial tail has been flushed and the fd closed.
  Read pump(LogWriter& log, stack::Result<>& log_error);
  // Queues the partial tail as a last record and closes the pipe (the
  // container is gone, or we stop waiting for processes that outlived it).
  void close(LogWriter& log, stack::Result<>& log_error);

 private:
  void emit(LogWriter& log, stack::Result<>& log_error, const char* data, size_t len, const char* time,
            size_t time_len);

  stack::UniqueFd fd_;
  const char* name_;  // "stdout" / "stderr", a literal
  Tee tee_;
  char buf_[kMaxLine];
  size_t len_ = 0;  // bytes of an unfinished line at the front of buf_
};

}  // namespace stack::shim
