#include "base/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/fd.h"

namespace stack::io {

stack::Result<void> write_all(int fd, std::string_view data, const std::string& what) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return stack::fail_errno("write " + what);
    }
    if (n == 0) return stack::fail("write " + what + ": no progress", EIO);
    off += static_cast<size_t>(n);
  }
  return {};
}

stack::Result<void> write_to_pipe(int fd, std::string_view data, const std::string& what) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  // Was SIGPIPE already pending before we blocked it? Then it is not ours to eat.
  sigset_t pending;
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  auto r = write_all(fd, data, what);
  if (!r && r.error().code == EPIPE && !was_pending) {
    struct timespec zero{0, 0};
    while (::sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return r;
}

namespace {
std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

stack::Result<void> write_file_atomic(const std::string& path, std::string_view content, mode_t mode,
                                   Durability durability) {
  std::string tmp = path + ".XXXXXX";
  stack::UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) return stack::fail_errno("create temp file for " + path);
  auto written = [&]() -> stack::Result<void> {
    if (::fchmod(fd.get(), mode) != 0) return stack::fail_errno("chmod " + tmp);
    STACK_TRY(write_all(fd.get(), content, tmp));
    if (durability == Durability::Disk && ::fsync(fd.get()) != 0) return stack::fail_errno("fsync " + tmp);
    if (::close(fd.release()) != 0) return stack::fail_errno("close " + tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0) return stack::fail_errno("rename " + tmp + " to " + path);
    return {};
  }();
  if (!written) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (durability == Durability::Disk) {
    // The rename is durable only once the directory entry is on disk.
    std::string dir = parent_dir(path);
    stack::UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd) return stack::fail_errno("open directory " + dir);
    if (::fsync(dfd.get()) != 0) return stack::fail_errno("fsync directory " + dir);
  }
  return {};
}

stack::Result<std::string> read_file(const std::string& path) {
  stack::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return stack::fail_errno("open " + path);
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return stack::fail_errno("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_text(const std::string& path) { return read_file(path).value_or(""); }

stack::Result<void> write_file_in_place(const std::string& path, std::string_view content) {
  stack::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) return stack::fail_errno("open " + path);
  return write_all(fd.get(), content, path);
}

}  // namespace stack::io
