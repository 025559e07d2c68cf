#include "runtime/shim/log_stream.h"

#include <unistd.h>

#include <cstring>

#include "runtime/shim/rfc3339.h"

namespace stack::shim {

void LogStream::emit(LogWriter& log, stack::Result<>& log_error, const char* data, size_t len, const char* time,
                     size_t time_len) {
  auto r = log.add(name_, {data, len}, {time, time_len});
  if (!r && log_error) log_error = r;  // keep the first error for the caller to report
}

void LogStream::close(LogWriter& log, stack::Result<>& log_error) {
  if (len_ > 0) {
    char time[kRfc3339Size];
    size_t tl = format_rfc3339_nano(realtime_now(), time);
    emit(log, log_error, buf_, len_, time, tl);
    len_ = 0;
  }
  fd_.reset();
}

LogStream::Read LogStream::pump(LogWriter& log, stack::Result<>& log_error) {
  if (!fd_) return Read::Closed;
  Read result = Read::Empty;
  // 8 reads of up to 16 KiB: enough to keep up with a chatty container,
  // short enough that the other stream and signals are not starved.
  for (int round = 0; round < 8; round++) {
    ssize_t n = ::read(fd_.get(), buf_ + len_, sizeof buf_ - len_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      close(log, log_error);
      return Read::Closed;
    }
    result = Read::Data;
    if (tee_) tee_({buf_ + len_, static_cast<size_t>(n)});
    // One timestamp per read: the records in it arrived together.
    char time[kRfc3339Size];
    size_t tl = format_rfc3339_nano(realtime_now(), time);
    size_t end = len_ + static_cast<size_t>(n);
    size_t start = 0;
    // Only the new bytes can hold a newline: the kept prefix had none.
    for (size_t i = len_; i < end; i++) {
      if (buf_[i] != '\n') continue;
      emit(log, log_error, buf_ + start, i + 1 - start, time, tl);
      start = i + 1;
    }
    size_t tail = end - start;
    if (tail == sizeof buf_) {
      // A full buffer without a newline: write it as a partial record, but
      // not through the middle of a UTF-8 character.
      size_t cut = utf8_safe_cut(buf_, tail);
      if (cut == 0) cut = tail;
      emit(log, log_error, buf_, cut, time, tl);
      start = cut;
      tail -= cut;
    }
    if (tail > 0 && start > 0) std::memmove(buf_, buf_ + start, tail);
    len_ = tail;
  }
  return result;
}

}  // namespace stack::shim
