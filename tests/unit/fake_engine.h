// A recording Engine for the API route and server tests: it records each
// call as one line, fails the next call with `next_error` when set, and
// answers with fixed replicas, log lines and events. exec/run start a real
// `cat` (stdin echoed to stdout) so the framed relay moves real bytes.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <optional>
#include <sstream>

#include "orchestrator/daemon/engine/engine.h"
#include "base/fd.h"

namespace stack::orch {

// `cat` as a child process with its stdio on pipes.
class CatSession : public ExecSession {
 public:
  CatSession() {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execlp("cat", "cat", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_.reset(in[1]);
    out_.reset(out[0]);
    err_.reset(err[0]);
  }
  ~CatSession() override {
    if (pid_ > 0 && !waited_) {
      in_.reset();
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int stdin_fd() override { return in_.get(); }
  int stdout_fd() override { return out_.get(); }
  int stderr_fd() override { return err_.get(); }
  void resize(unsigned rows, unsigned cols) override { resized = std::to_string(rows) + "x" + std::to_string(cols); }
  stack::Result<int> wait() override {
    int status = 0;
    if (::waitpid(pid_, &status, 0) < 0) return stack::fail_errno("waitpid");
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void close_stdin() override { in_.reset(); }
  std::string resized;

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
  stack::UniqueFd in_, out_, err_;
};

class FakeEngine : public Engine {
 public:
  std::vector<std::string> calls;
  std::optional<stack::Error> next_error;
  uint64_t last_since = 0;
  std::mutex mu;

  stack::Result<void> restore() override { return {}; }
  stack::Result<std::vector<ReplicaView>> up(const compose::Project& p, const UpOptions&) override {
    STACK_TRY(record("up " + p.name));
    return replicas();
  }
  stack::Result<void> down(const std::string& s, bool v) override {
    return record("down " + s + (v ? " volumes=1" : ""));
  }
  stack::Result<void> stop(const std::string& s, const std::vector<std::string>& sv) override {
    return record("stop " + s + " " + join(sv));
  }
  stack::Result<void> start(const std::string& s, const std::vector<std::string>& sv) override {
    return record("start " + s + " " + join(sv));
  }
  stack::Result<void> restart(const std::string& s, const std::vector<std::string>& sv) override {
    return record("restart " + s + " " + join(sv));
  }
  stack::Result<void> scale(const std::string& s, const std::map<std::string, int>& r) override {
    std::string line = "scale " + s;
    for (auto& [k, v] : r) line += " " + k + "=" + std::to_string(v);
    return record(line);
  }
  std::vector<StackView> stacks() override { return {StackView{"shop", "up", 2, 3, 3, {"/x/shop.yaml"}}}; }
  stack::Result<compose::Project> project(const std::string& s) override {
    if (s != "shop") return stack::fail("no such stack: " + s, ENOENT);
    compose::Project p;
    p.name = s;
    return p;
  }
  stack::Result<std::vector<ReplicaView>> ps(const std::string& s) override {
    STACK_TRY(record("ps " + s));
    return replicas();
  }
  stack::Result<void> logs(const std::string& s, const LogOptions& o, const std::function<bool(const LogLine&)>& sink,
                        const std::atomic<bool>&) override {
    STACK_TRY(record("logs " + s + " tail=" + std::to_string(o.tail) + (o.follow ? " follow=1" : "") +
                     " services=" + join(o.services)));
    for (int i = 1; i <= 2; ++i)
      if (!sink(LogLine{"web", "shop-web-1", "stdout", i * 1000, "line " + std::to_string(i)})) break;
    return {};
  }
  stack::Result<std::unique_ptr<ExecSession>> exec(const ExecRequest& r) override {
    STACK_TRY(record("exec " + r.stack + " " + r.service + " " + join(r.cmd)));
    return std::unique_ptr<ExecSession>(new CatSession());
  }
  stack::Result<std::unique_ptr<ExecSession>> run(const ExecRequest& r, bool rm) override {
    STACK_TRY(record("run " + r.stack + " " + r.service + " " + join(r.cmd) + (rm ? " rm=1" : "")));
    return std::unique_ptr<ExecSession>(new CatSession());
  }
  stack::Result<std::string> top(const std::string&) override { return std::string("{}"); }
  stack::Result<std::string> stats(const std::string&) override { return std::string("[]"); }
  Subscription subscribe(uint64_t since, std::function<void(const Event&)> sink) override {
    last_since = since;
    sink(Event{1, 1, "other", "x", "other-x-1", "create", {}});
    sink(Event{2, 2, "shop", "web", "shop-web-1", "create", {}});
    sink(Event{3, 3, "shop", "web", "shop-web-1", "start", {}});
    return std::make_shared<int>(0);
  }
  void shutdown() override {}

 private:
  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  }
  stack::Result<void> record(const std::string& line) {
    std::lock_guard lock(mu);
    if (next_error) {
      auto e = *next_error;
      next_error.reset();
      return tl::unexpected(e);
    }
    calls.push_back(line);
    return {};
  }
  static std::vector<ReplicaView> replicas() {
    ReplicaView r;
    r.stack = "shop";
    r.service = "web";
    r.name = "shop-web-1";
    r.state = "running";
    r.ports.push_back(PortView{"", 8080, 80, "tcp"});
    return {r};
  }
};

}  // namespace stack::orch
