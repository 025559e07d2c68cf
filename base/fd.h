// RAII owner of one file descriptor. Move-only; closes on destruction.
#pragma once

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <utility>

namespace stack {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A pipe whose both ends are owned; O_CLOEXEC unless flags say otherwise.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// Marks an fd close-on-exec. For fds a library opened without O_CLOEXEC
// (Boost.Asio's sockets): a daemon that spawns children must not hand its
// listeners to them, or a port stays held after the daemon closed it.
inline bool set_cloexec(int fd) { return fd >= 0 && ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0; }

// Closes every fd from `first` up. Our binaries start with it: a caller
// that leaks a directory fd (a shell, a daemon, a CI runner) would otherwise
// hand a container a way back into the host's tree ("/proc/self/fd/9" as
// the working directory, CVE-2024-21626).
inline bool close_fds_from(int first) { return ::syscall(SYS_close_range, first, ~0U, 0) == 0; }

}  // namespace stack
