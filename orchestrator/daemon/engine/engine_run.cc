// EngineImpl::run (`stack run [--rm] [-i] [-t] SERVICE CMD`): the one-off
// container runs CMD as its main process (the service's entrypoint kept,
// published ports dropped, same networks and DNS), named
// <stack>-<service>-run-<6 hex>. With `remove` it is deleted after.
//
// Without -i/-t the session relays its output from the json-file log
// (stdout and stderr on separate pipes); wait() returns the exit code.
//
// With -i and/or -t the main process gets stdin_open / tty like a service's
// (its shim holds the pty master or the stdin pipe) and the session is an
// attach to the shim's attach.sock (node/attach_session.h), relayed by
// relay_client(). Docker attaches before it starts the container; here the
// shim starts it and the daemon attaches right after, so the shim is told
// to keep the output until that first attach (--hold-output) and to close
// the stdin pipe at the client's EOF (--stdin-once, Docker's run -i): no
// byte the process wrote early is lost, without a create/attach/start
// handshake between the node and the shim. The exit frame is sent once the
// one-off is removed, so the CLI exits after --rm did its work.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <random>
#include <thread>

#include "base/io.h"
#include "orchestrator/api/framing.h"
#include "orchestrator/daemon/engine/engine_impl.h"
#include "orchestrator/daemon/engine/log_reader.h"

namespace stack::orch {
namespace {

class RunSession final : public ExecSession {
 public:
  // `attached`: the attach of an interactive one-off (its exit frame not
  // forwarded), else null.
  // `volumes`: the one-off's anonymous volumes, which --rm removes too (as Docker's run --rm).
  RunSession(LocalNode& node, std::string id, bool remove, std::unique_ptr<ExecSession> attached, std::string volumes)
      : node_(node), id_(std::move(id)), remove_(remove), attached_(std::move(attached)), volumes_(std::move(volumes)) {}
  ~RunSession() override {
    {
      std::lock_guard lk(st_->mu);
      if (!st_->exit) (void)node_.signal(id_, SIGKILL);  // dropped early: end the one-off
    }
    finish_relay();
    if (remove_ && !removed_) (void)remove_one_off();
  }

  stack::Result<void> start() {
    // The callback may outlive the session: it holds only the shared state.
    auto w = node_.watch(id_, [st = st_](const ExitInfo& info) {
      std::lock_guard lk(st->mu);
      st->exit = info;
      st->cv.notify_all();
    });
    if (!w) return tl::unexpected(w.error().wrap("run: watch"));
    if (attached_) return {};
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
    relay_ = std::thread([this] { relay(); });
    return {};
  }

  int stdin_fd() override { return -1; }
  int stdout_fd() override { return out_r_.get(); }
  int stderr_fd() override { return err_r_.get(); }
  void resize(unsigned, unsigned) override {}
  void close_stdin() override {}

  bool relay_client(int client_fd, const std::string& pending, const std::atomic<bool>& stop) override {
    if (!attached_) return false;  // the caller relays the log's pipes
    attached_->relay_client(client_fd, pending, stop);
    // No exit from the shim: the client went (or stackd stops) while the
    // process runs; it ends, as a one-off whose client left always did.
    if (!attached_->wait()) (void)node_.signal(id_, SIGKILL);
    auto code = wait();
    std::string frame = code ? encode_frame(FrameType::Exit, std::to_string(*code))
                             : encode_frame(FrameType::Error, code.error().message());
    (void)io::write_all(client_fd, frame, "run client");
    return true;
  }

  stack::Result<int> wait() override {
    {
      std::unique_lock lk(st_->mu);
      st_->cv.wait(lk, [this] { return st_->exit.has_value(); });
    }
    finish_relay();
    if (remove_ && !removed_) {
      removed_ = true;
      STACK_TRY(remove_one_off());
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
  stack::Result<void> remove_one_off() {
    STACK_TRY(node_.remove({id_}));
    std::error_code ec;  // none made: nothing to remove
    std::filesystem::remove_all(volumes_, ec);
    return {};
  }

  LocalNode& node_;
  std::string id_;
  bool remove_;
  std::unique_ptr<ExecSession> attached_;
  std::string volumes_;
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
  const bool attach = request.tty || request.interactive;
  // The request decides, not the service's own tty / stdin_open (as Compose).
  s.tty = request.tty;
  s.stdin_open = request.interactive;
  static thread_local std::mt19937 gen{std::random_device{}()};
  char hex[8];
  std::snprintf(hex, sizeof hex, "%06x", static_cast<unsigned>(gen() & 0xffffff));
  std::string id = d.project.name + "-" + request.service + "-run-" + hex;
  ReplicaPlan plan = make_plan(d.project, request.service, 0, id, d.networks, options_.root + "/volumes");
  plan.name = id;
  // Its own anonymous volumes (Compose's run makes fresh ones); `down -v` removes them.
  plan.anonymous_dir = anonymous_volumes_root(options_.root + "/volumes", d.project.name) + "/" + id;
  plan.labels["com.stack.oneoff"] = "true";
  plan.oneoff_attach = attach;
  auto started = node_->create_and_start(plan);
  if (!started) return tl::unexpected(started.error().wrap("run " + request.service));
  emit(request.stack, "start", {{"replica", id}, {"oneoff", "true"}});
  std::unique_ptr<ExecSession> attached;
  if (attach) {
    auto a = node_->attach(id, false);
    if (!a) {
      (void)node_->remove({id});
      return tl::unexpected(a.error().wrap("run " + request.service));
    }
    attached = std::move(*a);
  }
  auto session = std::make_unique<RunSession>(*node_, id, remove, std::move(attached), plan.anonymous_dir);
  if (auto st = session->start(); !st) {
    (void)node_->remove({id});
    return tl::unexpected(st.error());
  }
  return std::unique_ptr<ExecSession>(std::move(session));
}

}  // namespace stack::orch
