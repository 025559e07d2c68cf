// EngineImpl::run (`stack run [--rm] SERVICE CMD`), a narrower form than
// Docker's: the one-off container runs CMD as its main process (the
// service's entrypoint kept, published ports dropped, same networks and
// DNS), named <stack>-<service>-run-<6 hex>, and the session relays its
// output from the json-file log (stdout and stderr on separate pipes). There
// is no stdin and no tty: the shim owns the main process's stdio, and an
// interactive one-off would need the shim to hand us a pty. wait() returns
// the exit code; with `remove` the container is deleted after.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <chrono>
#include <condition_variable>
#include <random>
#include <thread>

#include "base/io.h"
#include "orchestrator/daemon/engine/engine_impl.h"
#include "orchestrator/daemon/engine/log_reader.h"

namespace stack::orch {
namespace {

class RunSession final : public ExecSession {
 public:
  RunSession(LocalNode& node, std::string id, bool remove) : node_(node), id_(std::move(id)), remove_(remove) {}
  ~RunSession() override {
    {
      std::lock_guard lk(st_->mu);
      if (!st_->exit) (void)node_.signal(id_, SIGKILL);  // dropped early: end the one-off
    }
    finish_relay();
    if (remove_ && !removed_) (void)node_.remove({id_});
  }

  stack::Result<void> start() {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return stack::fail_errno("run: pipe");
    if (pipe2(err, O_CLOEXEC) != 0) {
      ::close(out[0]);
      ::close(out[1]);
      return stack::fail_errno("run: pipe");
    }
    out_r_.reset(out[0]);
    out_w_.reset(out[1]);
    err_r_.reset(err[0]);
    err_w_.reset(err[1]);
    // The callback may outlive the session: it holds only the shared state.
    auto w = node_.watch(id_, [st = st_](const ExitInfo& info) {
      std::lock_guard lk(st->mu);
      st->exit = info;
      st->cv.notify_all();
    });
    if (!w) return tl::unexpected(w.error().wrap("run: watch"));
    relay_ = std::thread([this] { relay(); });
    return {};
  }

  int stdin_fd() override { return -1; }
  int stdout_fd() override { return out_r_.get(); }
  int stderr_fd() override { return err_r_.get(); }
  void resize(unsigned, unsigned) override {}
  void close_stdin() override {}

  stack::Result<int> wait() override {
    {
      std::unique_lock lk(st_->mu);
      st_->cv.wait(lk, [this] { return st_->exit.has_value(); });
    }
    finish_relay();
    if (remove_ && !removed_) {
      removed_ = true;
      STACK_TRY(node_.remove({id_}));
    }
    return st_->exit->exit_code;
  }

 private:
  void relay() {
    std::vector<LogCursor> cursors;
    for (;;) {
      bool done;
      {
        std::lock_guard lk(st_->mu);
        done = st_->exit.has_value();
      }
      if (cursors.empty())
        for (const auto& f : node_.log_files(id_)) cursors.push_back({f, 0});
      for (auto& c : cursors)
        for (const auto& l : c.read_new()) (void)io::write_all(l.stream == "stderr" ? err_w_.get() : out_w_.get(), l.text + "\n");
      // The shim flushes the log before the exit is recorded: one more read
      // after the exit gets everything.
      if (done) break;
      std::unique_lock lk(st_->mu);
      st_->cv.wait_for(lk, std::chrono::milliseconds(100), [this] { return st_->exit.has_value(); });
    }
    out_w_.reset();  // EOF for the reader
    err_w_.reset();
  }
  void finish_relay() {
    if (relay_.joinable()) relay_.join();
  }

  LocalNode& node_;
  std::string id_;
  bool remove_;
  bool removed_ = false;
  stack::UniqueFd out_r_, out_w_, err_r_, err_w_;
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<ExitInfo> exit;
  };
  std::shared_ptr<State> st_ = std::make_shared<State>();
  std::thread relay_;
};

}  // namespace

stack::Result<std::unique_ptr<ExecSession>> EngineImpl::run(const ExecRequest& request, bool remove) {
  auto sup = need(request.stack);
  if (!sup) return tl::unexpected(sup.error());
  if (request.tty || request.interactive)
    return stack::fail("run: interactive and tty one-off containers are not supported yet (use exec)", ENOTSUP);
  StackDesired d = (*sup)->desired();
  auto it = d.project.services.find(request.service);
  if (it == d.project.services.end()) return stack::fail("run: no such service: " + request.service, ENOENT);
  compose::Service& s = it->second;
  if (!request.cmd.empty()) s.command = request.cmd;
  s.ports.clear();
  s.container_name.clear();
  s.restart = "no";
  for (const auto& e : request.env) {
    auto eq = e.find('=');
    if (eq != std::string::npos) s.environment[e.substr(0, eq)] = e.substr(eq + 1);
  }
  if (!request.user.empty()) s.user = request.user;
  if (!request.workdir.empty()) s.working_dir = request.workdir;
  static thread_local std::mt19937 gen{std::random_device{}()};
  char hex[8];
  std::snprintf(hex, sizeof hex, "%06x", static_cast<unsigned>(gen() & 0xffffff));
  std::string id = d.project.name + "-" + request.service + "-run-" + hex;
  ReplicaPlan plan = make_plan(d.project, request.service, 0, id, d.networks, options_.root + "/volumes");
  plan.name = id;
  // Its own anonymous volumes (Compose's run makes fresh ones); `down -v` removes them.
  plan.anonymous_dir = anonymous_volumes_root(options_.root + "/volumes", d.project.name) + "/" + id;
  plan.labels["com.stack.oneoff"] = "true";
  auto started = node_->create_and_start(plan);
  if (!started) return tl::unexpected(started.error().wrap("run " + request.service));
  emit(request.stack, "start", {{"replica", id}, {"oneoff", "true"}});
  auto session = std::make_unique<RunSession>(*node_, id, remove);
  if (auto st = session->start(); !st) {
    (void)node_->remove({id});
    return tl::unexpected(st.error());
  }
  return std::unique_ptr<ExecSession>(std::move(session));
}

}  // namespace stack::orch
