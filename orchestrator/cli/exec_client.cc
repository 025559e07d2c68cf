#include "orchestrator/cli/exec_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "base/io.h"
#include "orchestrator/api/api_json.h"
#include "orchestrator/api/framing.h"
#include "orchestrator/cli/detach_keys.h"

namespace stack::cli {

using nlohmann::json;
using orch::FrameType;

namespace {

// Raw mode on the local terminal for the life of the object.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd_, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

int g_winch_fd = -1;  // write end of the SIGWINCH self-pipe
void on_winch(int) {
  int saved = errno;
  if (g_winch_fd >= 0) (void)!::write(g_winch_fd, "w", 1);
  errno = saved;
}

std::string window_size() {
  winsize ws{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) return "";
  return std::to_string(ws.ws_row) + " " + std::to_string(ws.ws_col);
}

}  // namespace

bool service_tty(const StackOptions& o, const std::string& service) {
  auto p = load_stack(o, false);
  if (!p) return false;  // stack_name() reports a broken file
  auto it = p->services.find(service);
  return it != p->services.end() && it->second.tty;
}

Result<int> cmd_exec(const StackOptions& o, const ExecFlags& f, StreamVerb verb) {
  if (f.tty && !::isatty(STDIN_FILENO)) return stack::fail("the input device is not a TTY (use -T)");
  const bool run = verb == StreamVerb::Run;
  auto keys = DetachKeys::parse(verb == StreamVerb::Attach ? f.detach_keys : "");
  if (!keys) return tl::unexpected(keys.error());
  auto name = stack_name(o);
  if (!name) return tl::unexpected(name.error());
  auto client = ApiClient::connect(o.client);
  if (!client) return tl::unexpected(client.error());
  orch::ExecRequest req;
  req.stack = *name;
  req.service = f.service;
  req.index = f.index;
  req.cmd = f.cmd;
  req.tty = f.tty;
  req.interactive = f.interactive;
  req.env = f.env;
  req.user = f.user;
  req.workdir = f.workdir;
  json body = orch::to_json(req);
  if (run) body["rm"] = f.rm;
  const char* route = verb == StreamVerb::Run ? "/run" : verb == StreamVerb::Attach ? "/attach" : "/exec";
  auto up = client->upgrade("/v1/stacks/" + *name + route, body);
  if (!up) return tl::unexpected(up.error());
  int sock = up->fd.get();

  stack::Pipe winch;
  if (f.tty) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
      winch.read.reset(p[0]);
      winch.write.reset(p[1]);
      g_winch_fd = p[1];
      ::signal(SIGWINCH, on_winch);
    }
    if (auto ws = window_size(); !ws.empty()) (void)io::write_to_pipe(sock, orch::encode_frame(FrameType::Resize, ws));
  }
  std::optional<RawTerminal> raw;
  if (f.tty) raw.emplace(STDIN_FILENO);

  orch::FrameDecoder decoder;
  decoder.feed(up->pending.data(), up->pending.size());
  bool stdin_open = f.interactive;
  // attach: the process's stdin is not ours to close (Docker closes it only
  // for stdin_once), so neither -i absent nor our EOF sends the empty frame.
  if (!stdin_open && verb != StreamVerb::Attach)
    (void)io::write_to_pipe(sock, orch::encode_frame(FrameType::Stdin, ""));
  std::string buf(32 * 1024, '\0');
  for (;;) {
    while (auto fr = decoder.next()) {
      switch (fr->type) {
        case FrameType::Stdout: (void)io::write_all(STDOUT_FILENO, fr->payload); break;
        case FrameType::Stderr: (void)io::write_all(STDERR_FILENO, fr->payload); break;
        case FrameType::Exit: g_winch_fd = -1; return std::atoi(fr->payload.c_str());
        case FrameType::Error: g_winch_fd = -1; return stack::fail(fr->payload);
        default: break;
      }
    }
    if (!decoder.error().empty()) return stack::fail("exec stream: " + decoder.error());
    pollfd fds[3] = {{sock, POLLIN, 0}, {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}, {winch.read.get(), POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return stack::fail_errno("poll");
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(sock, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return stack::fail("stackd closed the exec stream before the process exited");
      decoder.feed(buf.data(), static_cast<size_t>(n));
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      std::string payload = n > 0 ? buf.substr(0, static_cast<size_t>(n)) : "";
      if (n <= 0) stdin_open = false;  // EOF: an empty frame closes the process's stdin (not attach's)
      bool detached = false;
      if (n > 0) payload = keys->filter(payload, detached);
      if ((n > 0 && !payload.empty()) || (n <= 0 && verb != StreamVerb::Attach))
        if (!io::write_to_pipe(sock, orch::encode_frame(FrameType::Stdin, payload))) stdin_open = false;
      if (detached) {
        g_winch_fd = -1;
        return 0;  // the container runs on (as docker attach's detach)
      }
    }
    if (fds[2].revents & POLLIN) {
      char drain[64];
      while (::read(winch.read.get(), drain, sizeof(drain)) > 0) {
      }
      if (auto ws = window_size(); !ws.empty()) (void)io::write_to_pipe(sock, orch::encode_frame(FrameType::Resize, ws));
    }
  }
}

}  // namespace stack::cli
