// The container's log file in Docker's json-file format: one JSON object per
// line, {"log":"hello\n","stream":"stdout","time":"2024-...Z"}, so tools that
// read Docker logs read ours. Owned by the shim's monitor loop (single
// threaded); it is the only writer of the file.
//
// Rotation: when the next record would take the file past max_size, the file
// is renamed to <path>.1 (<path>.1 to <path>.2, ...) and a new one started;
// max_files counts the current file, so at most max_files files exist. With
// max_files == 1 the file is truncated instead. With compress (Docker's
// json-file compress option) the file just rotated out becomes <path>.1.gz
// (gzip, zlib) and the older ones move as <path>.N.gz; a file that cannot be
// compressed stays <path>.1, which readers take as well. Compressing runs in
// the monitor loop, once per rotation: a few ms per MiB. Records are never split
// across files, so a file exceeds max_size only when one record alone is
// larger (a 16 KiB chunk of escaped binary output).
//
// Memory is bounded: records are queued up to kFlushAt bytes and written
// with one write(2); when the write fails (disk full) the queued records are
// dropped and counted rather than kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/fd.h"

namespace stack::shim {

// Appends `data` as the inside of a JSON string. Invalid UTF-8 bytes become
// U+FFFD (as Go's encoding/json does), so every line parses.
void append_json_escaped(std::string& out, std::string_view data);
// The largest n <= len such that buf[0..n) does not end inside a UTF-8
// sequence that continues past len: where to cut a partial line so a
// character is not torn across two records.
size_t utf8_safe_cut(const char* buf, size_t len);

// gzip of `from` written to `to` (through <to>.tmp, so `to` is whole or
// absent); `from` is left to the caller.
stack::Result<> gzip_file(const std::string& from, const std::string& to);

class LogWriter {
 public:
  static constexpr size_t kFlushAt = 64 * 1024;

  // An empty path keeps nothing: records are dropped (logging driver none).
  LogWriter(std::string path, uint64_t max_size, unsigned max_files, bool compress = false);
  // Opens (creates, appends to) the file.
  stack::Result<> open();
  // Queues one record; `data` is a line with its '\n' or a partial chunk.
  // May write (and rotate) when the queue is full.
  stack::Result<> add(std::string_view stream, std::string_view data, std::string_view time);
  // Writes what is queued.
  stack::Result<> flush();
  uint64_t dropped_bytes() const { return dropped_; }
  const std::string& path() const { return path_; }

 private:
  stack::Result<> rotate();
  stack::Result<> write_pending();

  std::string path_;
  uint64_t max_size_;
  unsigned max_files_;
  bool compress_;
  stack::UniqueFd fd_;
  uint64_t size_ = 0;     // bytes in the current file
  std::string pending_;   // encoded records not yet written
  std::string record_;    // scratch for one record, reused
  uint64_t dropped_ = 0;  // bytes of records lost to write errors
};

}  // namespace stack::shim
