#include "runtime/image/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>

namespace stack::img {

namespace {

const char* state_word(ProgressEvent::State s) {
  using S = ProgressEvent::State;
  switch (s) {
    case S::Resolving: return "Resolving";
    case S::Waiting: return "Waiting";
    case S::Downloading: return "Downloading";
    case S::Verifying: return "Verifying Checksum";
    case S::Complete: return "Pull complete";
    case S::Exists: return "Already exists";
    case S::Uploading: return "Pushing";
    case S::Pushed: return "Pushed";
    case S::Retrying: return "Retrying";
    case S::Failed: return "Failed";
    case S::Status: return "";
  }
  return "";
}

}  // namespace

std::string human_size(uint64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000.0 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.3g%s", v, units[u]);
  return buf;
}

std::string render_progress_line(const ProgressEvent& e, int bar_width) {
  using S = ProgressEvent::State;
  if (e.state == S::Status) return e.message;
  std::string line = e.id + ": " + state_word(e.state);
  if ((e.state == S::Downloading || e.state == S::Uploading) && e.total > 0) {
    int filled = static_cast<int>(std::min<uint64_t>(e.done, e.total) * bar_width / e.total);
    std::string bar(bar_width, ' ');
    for (int i = 0; i < filled; ++i) bar[i] = '=';
    if (filled < bar_width) bar[filled] = '>';
    line += " [" + bar + "]  " + human_size(e.done) + "/" + human_size(static_cast<uint64_t>(e.total));
  } else if (e.state == S::Downloading || e.state == S::Uploading) {
    line += "  " + human_size(e.done);
  }
  if (!e.message.empty()) line += (e.state == S::Resolving ? " " : ": ") + e.message;
  return line;
}

TerminalProgress::TerminalProgress(int fd, int tty) : fd_(fd), tty_(tty < 0 ? isatty(fd) == 1 : tty != 0) {}

void TerminalProgress::write_all(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd_, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // progress output is best effort
    off += static_cast<size_t>(n);
  }
}

std::pair<uint64_t, uint64_t> TerminalProgress::overall() {
  std::lock_guard lock(mu_);
  uint64_t done = 0, total = 0;
  for (const auto& [id, b] : bytes_) {
    done += b.first;
    if (b.second > 0) total += static_cast<uint64_t>(b.second);
  }
  return {done, total};
}

void TerminalProgress::event(const ProgressEvent& e) {
  using S = ProgressEvent::State;
  std::lock_guard lock(mu_);
  const bool bytes = e.state == S::Downloading || e.state == S::Uploading;
  if (e.state != S::Status && !e.id.empty()) {
    auto& b = bytes_[e.id];
    if (e.total > 0) b.second = e.total;
    if (bytes || e.state == S::Complete || e.state == S::Pushed) b.first = std::max(b.first, e.done);
  }
  if (!tty_) {
    // Plain output: state changes only, never every byte count.
    if (e.state == S::Status || e.id.empty()) {
      write_all(render_progress_line(e) + "\n");
      return;
    }
    ProgressEvent* last = nullptr;
    for (auto& [id, l] : lines_)
      if (id == e.id) last = &l;
    const bool changed = !last || last->state != e.state;
    if (last) *last = e;
    else lines_.emplace_back(e.id, e);
    if (bytes && changed) write_all(e.id + ": " + state_word(e.state) + "\n");
    else if (!bytes) write_all(render_progress_line(e) + "\n");
    return;
  }
  if (e.state == S::Status || e.id.empty()) {
    write_all(render_progress_line(e) + "\n");
    lines_.clear();  // later ids start a fresh block below the status line
    return;
  }
  size_t i = 0;
  for (; i < lines_.size(); ++i)
    if (lines_[i].first == e.id) break;
  if (i == lines_.size()) {
    lines_.emplace_back(e.id, e);
    write_all(render_progress_line(e) + "\n");
    return;
  }
  // Byte counts arrive every 256 KiB; redraw at most ten times a second.
  auto now = std::chrono::steady_clock::now();
  auto& last_draw = redrawn_[e.id];
  if (bytes && lines_[i].second.state == e.state && now - last_draw < std::chrono::milliseconds(100)) {
    lines_[i].second = e;
    return;
  }
  last_draw = now;
  lines_[i].second = e;
  size_t up = lines_.size() - i;
  // Up to the layer's line, clear it, redraw, and return to the bottom.
  write_all("\x1b[" + std::to_string(up) + "A\r\x1b[2K" + render_progress_line(e) + "\x1b[" +
            std::to_string(up) + "B\r");
}

}  // namespace stack::img
