#include "runtime/shim/log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "base/gz_file.h"

namespace stack::shim {

namespace {

// Length of the valid UTF-8 sequence starting at s[0] (s has n bytes), or 0
// when it is not one (RFC 3629: no overlongs, surrogates or > U+10FFFF).
size_t utf8_sequence(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return len;
}

}  // namespace

void append_json_escaped(std::string& out, std::string_view data) {
  static const char hex[] = "0123456789abcdef";
  const auto* s = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c >= 0x80) {
      size_t len = utf8_sequence(s + i, n - i);
      if (len == 0) {
        out += "\\ufffd";
        i++;
      } else {
        out.append(reinterpret_cast<const char*>(s + i), len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
          out += esc;
        } else {
          out += static_cast<char>(c);
        }
    }
    i++;
  }
}

size_t utf8_safe_cut(const char* buf, size_t len) {
  const auto* s = reinterpret_cast<const unsigned char*>(buf);
  for (size_t back = 1; back <= 3 && back <= len; back++) {
    unsigned char c = s[len - back];
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    if (c < 0xC0) return len;          // ASCII: nothing is torn
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    return need > back ? len - back : len;
  }
  return len;
}

LogWriter::LogWriter(std::string path, uint64_t max_size, unsigned max_files, bool compress)
    : path_(std::move(path)), max_size_(max_size), max_files_(max_files ? max_files : 1), compress_(compress) {}

stack::Result<> LogWriter::open() {
  if (path_.empty()) return {};
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd_) return stack::fail_errno("open log file " + path_);
  struct stat st;
  size_ = ::fstat(fd_.get(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return {};
}

stack::Result<> LogWriter::add(std::string_view stream, std::string_view data, std::string_view time) {
  if (path_.empty()) return {};
  record_.clear();
  record_ += "{\"log\":\"";
  append_json_escaped(record_, data);
  record_ += "\",\"stream\":\"";
  record_ += stream;
  record_ += "\",\"time\":\"";
  record_ += time;
  record_ += "\"}\n";
  stack::Result<> r;
  uint64_t used = size_ + pending_.size();
  if (used > 0 && used + record_.size() > max_size_) {
    r = write_pending();
    if (auto rot = rotate(); !rot && r) r = rot;
  }
  pending_ += record_;
  if (pending_.size() >= kFlushAt)
    if (auto w = write_pending(); !w && r) r = w;
  return r;
}

stack::Result<> LogWriter::flush() { return write_pending(); }

stack::Result<> LogWriter::write_pending() {
  size_t off = 0;
  stack::Result<> r;
  while (off < pending_.size()) {
    if (!fd_) {
      r = stack::fail("log file " + path_ + " is not open", EBADF);
      break;
    }
    ssize_t w = ::write(fd_.get(), pending_.data() + off, pending_.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      r = stack::fail_errno("write log file " + path_);
      break;
    }
    off += static_cast<size_t>(w);
    size_ += static_cast<uint64_t>(w);
  }
  dropped_ += pending_.size() - off;
  pending_.clear();
  // Keep the queue's capacity near its bound: one huge record must not pin
  // its buffer for the shim's lifetime.
  if (pending_.capacity() > 2 * kFlushAt) pending_.shrink_to_fit();
  if (record_.capacity() > 2 * kFlushAt) record_.shrink_to_fit();
  return r;
}

stack::Result<> LogWriter::rotate() {
  if (max_files_ == 1) {
    // Nowhere to keep old output: start the same file over (Docker's
    // behaviour for max-file=1). O_APPEND writes follow the new end.
    if (fd_ && ::ftruncate(fd_.get(), 0) != 0) return stack::fail_errno("truncate log file " + path_);
    size_ = 0;
    return {};
  }
  // Oldest first: <path>.(N-2) -> <path>.(N-1) replaces the oldest kept file.
  // Compressed, each kept file is <path>.N.gz, or <path>.N where its
  // compression failed: the oldest goes in either form, then each moves up
  // in the form it has.
  const std::string oldest = path_ + "." + std::to_string(max_files_ - 1);
  if (compress_) {
    ::unlink(oldest.c_str());
    ::unlink((oldest + ".gz").c_str());
  }
  for (unsigned i = max_files_ - 1; i >= 1; i--) {
    for (const char* ext : {"", ".gz"}) {
      if (*ext && (!compress_ || i == 1)) continue;
      std::string from = (i == 1 ? path_ : path_ + "." + std::to_string(i - 1)) + ext;
      std::string to = path_ + "." + std::to_string(i) + ext;
      if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
        auto e = stack::fail_errno("rotate log file " + from);
        // Keep logging into the file we have rather than losing everything.
        return e;
      }
    }
  }
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  size_ = 0;
  if (!fd_) return stack::fail_errno("open log file " + path_);
  if (compress_) {
    const std::string rotated = path_ + ".1";
    if (auto z = gzip_file(rotated, rotated + ".gz"); !z) return z;
    ::unlink(rotated.c_str());
  }
  return {};
}

stack::Result<> gzip_file(const std::string& from, const std::string& to) {
  const std::string tmp = to + ".tmp";
  stack::UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return stack::fail_errno("compress log file " + from);
  stack::GzFile out(gzopen(tmp.c_str(), "wb6"));
  if (!out) return stack::fail("compress log file " + from + ": open " + tmp, errno ? errno : ENOMEM);
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto e = stack::fail_errno("compress log file " + from + ": read");
      ::unlink(tmp.c_str());
      return e;
    }
    if (n == 0) break;
    if (gzwrite(out.get(), buf, static_cast<unsigned>(n)) != n) {
      ::unlink(tmp.c_str());
      return stack::fail("compress log file " + from + ": write " + tmp, EIO);
    }
  }
  if (gzclose(out.release()) != Z_OK) {
    ::unlink(tmp.c_str());
    return stack::fail("compress log file " + from + ": close " + tmp, EIO);
  }
  if (::rename(tmp.c_str(), to.c_str()) != 0) {
    auto e = stack::fail_errno("compress log file " + from + ": rename to " + to);
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

}  // namespace stack::shim
