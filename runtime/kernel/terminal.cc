#include "runtime/kernel/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace stack::rt {

Result<UniqueFd> connect_console_socket(const std::string& path) {
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return fail_errno("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return fail("console socket path too long: " + path, ENAMETOOLONG);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return fail_errno("connect to console socket " + path);
  return s;
}

int setup_console(int socket_fd, unsigned rows, unsigned cols, ChildError* err) noexcept {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) {
    err->set(errno, "open /dev/ptmx");
    return err->code;
  }
  // /dev/ptmx is a name inside the container (an image's /dev, a symlink):
  // only the pty multiplexer (5:2, the host's or a devpts instance's) may
  // become the master we hand to the caller (CVE-2025-52565).
  struct stat st {};
  if (::fstat(master, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2)) {
    ::close(master);
    err->set(ENODEV, "/dev/ptmx is not the pty multiplexer (char 5:2)");
    return err->code;
  }
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) {
    err->set(errno, "unlock pty");
    return err->code;
  }
  // TIOCGPTPEER opens the slave through the master, with no path lookup that
  // a container could redirect.
  int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) {
    err->set(errno, "open pty slave");
    return err->code;
  }
  if (rows && cols) {
    struct winsize ws{};
    ws.ws_row = static_cast<unsigned short>(rows);
    ws.ws_col = static_cast<unsigned short>(cols);
    ::ioctl(slave, TIOCSWINSZ, &ws);
  }
  char byte = 'm';
  struct iovec iov{&byte, 1};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &master, sizeof(int));
  if (::sendmsg(socket_fd, &msg, 0) < 0) {
    err->set(errno, "send pty master to console socket");
    return err->code;
  }
  ::close(master);
  if (::setsid() < 0 && errno != EPERM) {
    err->set(errno, "setsid");
    return err->code;
  }
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) {
    err->set(errno, "set controlling terminal");
    return err->code;
  }
  for (int fd = 0; fd < 3; fd++) {
    if (::dup3(slave, fd, 0) < 0) {
      err->set(errno, "dup pty slave to stdio");
      return err->code;
    }
  }
  if (slave > 2) ::close(slave);
  return 0;
}

Result<UniqueFd> receive_pty_master(int socket_fd) {
  char byte;
  struct iovec iov{&byte, 1};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) return fail_errno("receive pty master");
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) return fail("no pty master in console message", EPROTO);
  int fd;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return UniqueFd(fd);
}

void proxy_pty(int master) {
  struct termios saved{};
  bool raw = ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    ::cfmakeraw(&t);
    ::tcsetattr(0, TCSANOW, &t);
    struct winsize ws{};
    if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
  }
  struct pollfd fds[2] = {{0, POLLIN, 0}, {master, POLLIN, 0}};
  char buf[16384];
  bool stdin_open = true;
  for (;;) {
    fds[0].fd = stdin_open ? 0 : -1;
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO once the last slave fd closes
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::write(1, buf + off, n - off);
        if (w <= 0) break;
        off += w;
      }
    }
    if (stdin_open && (fds[0].revents & (POLLIN | POLLHUP))) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n <= 0) {
        stdin_open = false;
        char eot = 4;  // ^D: end of input for the container's line discipline
        (void)!::write(master, &eot, 1);
      } else {
        (void)!::write(master, buf, n);
      }
    }
  }
  if (raw) ::tcsetattr(0, TCSANOW, &saved);
}

}  // namespace stack::rt
