#include "orchestrator/cli/log_printer.h"

#include <ctime>
#include <iostream>

namespace stack::cli {

namespace {

// Compose's palette order: cyan, yellow, green, magenta, blue, then bright.
const char* const kPalette[] = {"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"};

std::string rfc3339_ns(int64_t ns) {
  time_t s = static_cast<time_t>(ns / 1000000000);
  tm t{};
  gmtime_r(&s, &t);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &t);
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%09lldZ", static_cast<long long>(ns % 1000000000));
  return std::string(buf) + frac;
}

}  // namespace

LogPrinter::LogPrinter(std::string stack, bool color, bool timestamps)
    : stack_(std::move(stack)), color_(color), timestamps_(timestamps) {}

// "shop-web-1" -> "web-1": the stack is already named on the command line.
std::string LogPrinter::short_name(const std::string& replica) const {
  if (replica.rfind(stack_ + "-", 0) == 0) return replica.substr(stack_.size() + 1);
  return replica;
}

void LogPrinter::reserve(const std::string& replica_name) {
  std::lock_guard lock(mu_);
  width_ = std::max(width_, short_name(replica_name).size());
}

void LogPrinter::print(const orch::LogLine& line) {
  std::lock_guard lock(mu_);
  std::string name = short_name(line.replica.empty() ? line.service : line.replica);
  width_ = std::max(width_, name.size());
  std::string prefix = name + std::string(width_ - name.size(), ' ') + "  | ";
  if (color_) {
    auto [it, fresh] = colors_.try_emplace(line.service, static_cast<int>(colors_.size()));
    (void)fresh;
    prefix = std::string("\x1b[") + kPalette[it->second % 10] + "m" + prefix + "\x1b[0m";
  }
  std::string ts = timestamps_ ? rfc3339_ns(line.time_ns) + " " : "";
  std::cout << prefix << ts << line.text << "\n" << std::flush;
}

UpProgress::UpProgress(std::string stack, bool tty) : stack_(std::move(stack)), tty_(tty) {}

void UpProgress::set(const std::string& key, const std::string& status) {
  std::lock_guard lock(mu_);
  auto [it, added] = index_.try_emplace(key, lines_.size());
  if (added) {
    lines_.emplace_back(key, status);
  } else {
    if (lines_[it->second].second == status) return;
    lines_[it->second].second = status;
  }
  if (!tty_) {
    std::cout << " " << key << "  " << status << "\n" << std::flush;
    return;
  }
  dirty_ = true;
  if (std::chrono::steady_clock::now() - drawn_at_ >= kRedrawEvery) redraw();
}

void UpProgress::redraw() {
  size_t w = 0;
  for (auto& [k, s] : lines_) w = std::max(w, k.size());
  std::string out;
  if (drawn_) out += "\x1b[" + std::to_string(drawn_) + "A";  // back to the first line we drew
  for (auto& [k, s] : lines_) {
    bool done = s == "Started" || s == "Healthy" || s == "Created" || s == "Running";
    bool bad = s.rfind("Error", 0) == 0 || s == "Unhealthy" || s.rfind("Exited", 0) == 0;
    const char* mark = bad ? "\x1b[31m✘\x1b[0m" : done ? "\x1b[32m✔\x1b[0m" : "\x1b[33m⠿\x1b[0m";
    out += "\x1b[2K " + std::string(mark) + " " + k + std::string(w - k.size() + 2, ' ') + s + "\n";
  }
  drawn_ = lines_.size();
  drawn_at_ = std::chrono::steady_clock::now();
  dirty_ = false;
  std::cout << out << std::flush;
}

void UpProgress::on_event(const orch::Event& e) {
  auto attr = [&](const std::string& k) {
    auto it = e.attrs.find(k);
    return it == e.attrs.end() ? std::string() : it->second;
  };
  std::string key = e.replica.empty() ? "" : "Container " + e.replica;
  if (e.type == "pull") {
    auto p = attr("progress");
    set("Image " + attr("image"), p.empty() ? "Pulling" : "Pulling: " + p.substr(0, 50));
  } else if (e.type == "network-create") {
    set("Network " + attr("network"), "Created");
  } else if (key.empty()) {
    if (e.type == "error") set("Stack " + e.stack, "Error: " + attr("reason"));
    if (e.type == "pending") set("Service " + e.service, "Pending: " + attr("reason"));
    if (e.type == "update") {  // a rolling update's steps (scheduler/rollout.h)
      std::string p = attr("progress");
      if (!p.empty()) p[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(p[0])));
      set("Service " + e.service, p);
    }
  } else if (e.type == "create") {
    set(key, "Created");
  } else if (e.type == "start") {
    set(key, "Started");
  } else if (e.type == "health_status") {
    auto h = attr("health");
    set(key, h == "healthy" ? "Healthy" : h == "unhealthy" ? "Unhealthy" : "Waiting");
  } else if (e.type == "die") {
    set(key, "Exited (" + attr("exitCode") + ")");
  } else if (e.type == "restart") {
    set(key, "Restarting");
  } else if (e.type == "error") {
    set(key, "Error: " + attr("reason"));
  }
}

void UpProgress::finish(const std::vector<orch::ReplicaView>& replicas) {
  for (auto& r : replicas) {
    std::string status = r.health == "healthy" ? "Healthy" : r.state == "running" ? "Started" : r.state;
    if (!status.empty()) status[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(status[0])));
    set("Container " + r.name, status);
  }
  std::lock_guard lock(mu_);
  if (dirty_) redraw();
}

}  // namespace stack::cli
