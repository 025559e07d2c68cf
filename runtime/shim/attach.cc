#include "runtime/shim/attach.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "runtime/shim/private_socket.h"

namespace stack::shim {

using orch::FrameType;

namespace {

// How long finish() waits for clients to take their last frames (the exit
// code among them), in rounds of kFinishPollMs: stackd reads at once; a
// stuck client cannot hold the shim's exit longer than this.
constexpr int kFinishRounds = 10;
constexpr int kFinishPollMs = 200;

}  // namespace

AttachServer::~AttachServer() { close(); }

stack::Result<> AttachServer::listen(const std::string& path, AttachOptions options) {
  if (options.input && ::fcntl(options.input.get(), F_SETFL, O_NONBLOCK) != 0)
    return stack::fail_errno("fcntl O_NONBLOCK");
  if (auto l = listener_.listen(path); !l) return tl::unexpected(l.error().wrap("attach socket"));
  o_ = std::move(options);
  return {};
}

void AttachServer::add_poll_fds(std::vector<struct pollfd>& fds) const {
  if (!listener_.active()) return;
  fds.push_back({listener_.fd(), POLLIN, 0});
  for (auto& c : clients_) fds.push_back({c.fd.get(), static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
  if (o_.input && !input_queue_.empty()) fds.push_back({o_.input.get(), POLLOUT, 0});
}

void AttachServer::handle(const std::vector<struct pollfd>& fds) {
  if (!listener_.active()) return;
  bool accept_ready = false;
  for (auto& p : fds) {
    if (!p.revents) continue;
    if (p.fd == listener_.fd()) {
      accept_ready = true;
    } else if (o_.input && p.fd == o_.input.get()) {
      if (p.revents & (POLLERR | POLLHUP)) close_input();  // the process closed its stdin
      else flush_input();
    } else {
      for (auto& c : clients_) {
        if (c.fd.get() != p.fd) continue;
        if (p.revents & POLLOUT) flush(c);
        if (c.fd && (p.revents & (POLLIN | POLLHUP | POLLERR))) read_client(c);
      }
    }
  }
  clients_.erase(std::remove_if(clients_.begin(), clients_.end(), [](const Client& c) { return !c.fd; }),
                 clients_.end());
  if (accept_ready) accept_clients();
}

void AttachServer::accept_clients() {
  static const std::string busy = orch::encode_frame(FrameType::Error, "too many clients attached");
  listener_.accept_pending([this] { return clients_.size() < kMaxClients; }, busy, [this](stack::UniqueFd client) {
    clients_.push_back({std::move(client), {}, {}});
    Client& c = clients_.back();
    if (!had_client_) {
      had_client_ = true;
      c.out = std::move(held_);
      held_.clear();
      flush(c);
    }
  });
}

void AttachServer::read_client(Client& c) {
  char buf[16 * 1024];
  ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    c.fd.reset();  // detached: nothing changes for the process
    return;
  }
  c.decoder.feed(buf, static_cast<size_t>(n));
  while (auto f = c.decoder.next()) apply(*f);
  if (!c.decoder.error().empty()) {
    send(c, orch::encode_frame(FrameType::Error, "protocol error: " + c.decoder.error()));
    c.fd.reset();
  }
}

void AttachServer::apply(const orch::Frame& f) {
  if (f.type == FrameType::Resize) {
    unsigned rows = 0, cols = 0;
    if (!o_.terminal || !o_.input || std::sscanf(f.payload.c_str(), "%u %u", &rows, &cols) != 2 || !rows || !cols) return;
    struct winsize ws{};
    ws.ws_row = static_cast<unsigned short>(rows);
    ws.ws_col = static_cast<unsigned short>(cols);
    (void)::ioctl(o_.input.get(), TIOCSWINSZ, &ws);  // the kernel sends SIGWINCH to the foreground group
    return;
  }
  // Stdin not open: dropped, as Docker's daemon does for a container
  // without OpenStdin.
  if (f.type != FrameType::Stdin || !o_.input || !o_.stdin_open) return;
  if (f.payload.empty()) {
    // A pty has no EOF of its own to pass on; a pipe closes for stdin_once.
    if (o_.stdin_once && !o_.terminal) close_input();
    return;
  }
  if (input_queue_.size() + f.payload.size() > kMaxQueued) return;  // the process does not read
  input_queue_ += f.payload;
  flush_input();
}

void AttachServer::flush_input() {
  while (o_.input && !input_queue_.empty()) {
    ssize_t n = ::write(o_.input.get(), input_queue_.data(), input_queue_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;  // POLLOUT brings us back
    if (n <= 0) {
      close_input();  // EPIPE: nobody reads the process's stdin any more
      return;
    }
    input_queue_.erase(0, static_cast<size_t>(n));
  }
}

void AttachServer::close_input() {
  o_.input.reset();
  input_queue_.clear();
}

void AttachServer::send(Client& c, const std::string& frame) {
  if (!c.fd) return;
  if (c.out.size() + frame.size() > kMaxQueued) {
    c.fd.reset();  // it does not read: drop it rather than hold the container's output
    return;
  }
  c.out += frame;
  flush(c);
}

void AttachServer::flush(Client& c) {
  while (c.fd && !c.out.empty()) {
    ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      c.fd.reset();
      return;
    }
    c.out.erase(0, static_cast<size_t>(n));
  }
}

void AttachServer::output(FrameType stream, std::string_view data) {
  if (!listener_.active() || data.empty()) return;
  std::string frame = orch::encode_frame(stream, std::string(data));
  if (o_.hold && !had_client_) {
    if (held_.size() + frame.size() <= kMaxQueued) held_ += frame;
    return;
  }
  for (auto& c : clients_) send(c, frame);
}

void AttachServer::finish(int exit_code) {
  if (!listener_.active()) return;
  std::string frame = orch::encode_frame(FrameType::Exit, std::to_string(exit_code));
  for (auto& c : clients_) send(c, frame);
  for (int round = 0; round < kFinishRounds; round++) {
    std::vector<struct pollfd> fds;
    for (auto& c : clients_)
      if (c.fd && !c.out.empty()) fds.push_back({c.fd.get(), POLLOUT, 0});
    if (fds.empty()) break;
    if (::poll(fds.data(), fds.size(), kFinishPollMs) < 0 && errno != EINTR) break;
    for (auto& c : clients_) flush(c);
  }
  close();
}

void AttachServer::close() {
  clients_.clear();
  close_input();
  listener_.close();
}

}  // namespace stack::shim
