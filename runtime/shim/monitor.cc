#include "runtime/shim/monitor.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/io.h"
#include "runtime/container/container.h"
#include "runtime/kernel/cgroup.h"
#include "runtime/oci/spec.h"
#include "runtime/shim/attach.h"
#include "runtime/shim/control.h"
#include "runtime/shim/main_stdio.h"
#include "runtime/shim/exit_record.h"
#include "runtime/shim/log_stream.h"
#include "runtime/shim/log_writer.h"
#include "runtime/shim/rfc3339.h"

namespace stack::shim {
namespace {

// Signals a shim forwards to the container's init: `kill <shim>` stops the
// container the way `kill <init>` would.
constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGQUIT};
// After the init exits, how long the shim keeps reading pipes that are
// still open (held by processes that outlived it).
constexpr int kDrainMs = 2000;
// A one-off of `run -it` (--hold-output) that exited before stackd attached
// waits this long for it, so the output and exit code still reach the user.
constexpr int kHoldExitMs = 30000;

// Until the signalfd exists, a forwarded signal is recorded here by a plain
// handler. A handler, not SIG_IGN or a blocked mask: the container's init is
// cloned from this process meanwhile, and execve resets handlers to the
// default but would keep ignored or blocked signals.
volatile sig_atomic_t g_early_signal = 0;
void record_signal(int sig) {
  if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) g_early_signal = sig;
}

int64_t monotonic_ms() {
  struct timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void say(const std::string& line) {
  std::string s = "stack-shim: " + line + "\n";
  (void)!::write(2, s.data(), s.size());
}

bool same_pid_namespace(pid_t pid) {
  struct stat self, other;
  std::string path = "/proc/" + std::to_string(pid) + "/ns/pid";
  if (::stat("/proc/self/ns/pid", &self) != 0 || ::stat(path.c_str(), &other) != 0) return false;
  return self.st_ino == other.st_ino && self.st_dev == other.st_dev;
}

class Monitor {
 public:
  Monitor(const ShimOptions& o, StartupReport& report)
      : o_(o), report_(report), dir_(o.root), log_(o.log ? o.log_file : std::string(), o.log_max_size, o.log_max_files, o.log_compress) {}
  int run();

 private:
  stack::Result<> launch();
  stack::Result<> prepare();  // between create and start
  void abort_container();
  void loop();
  void on_signals();
  void reap();
  void forward(int sig);
  int finish();
  std::string control_request(std::string_view line);
  void report_log_error(const stack::Result<>& r);

  const ShimOptions& o_;
  StartupReport& report_;
  rt::StateDir dir_;
  LogWriter log_;
  std::unique_ptr<LogStream> out_, err_;  // heap: 16 KiB buffers each
  std::unique_ptr<rt::CgroupManager> cgroup_;
  ControlServer control_;
  AttachServer attach_;
  AttachOptions attach_options_;  // handed to attach_ once it listens
  stack::UniqueFd signals_;
  pid_t init_ = 0;
  bool own_pid_ns_ = true;
  bool exited_ = false;
  int wait_status_ = 0;
  int64_t drain_until_ms_ = 0;
  std::string started_at_, finished_at_;
  bool log_error_reported_ = false;
};

int Monitor::run() {
  struct sigaction sa{};
  sa.sa_handler = record_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int s : kForwarded) ::sigaction(s, &sa, nullptr);
  // HUP (terminal gone, parent's session ended) and PIPE (a control client
  // went away) must not kill the shim; caught here, ignored once started.
  ::sigaction(SIGHUP, &sa, nullptr);
  ::sigaction(SIGPIPE, &sa, nullptr);

  if (auto r = launch(); !r) {
    report_.failed(r.error().message());
    return kShimFailed;
  }
  // Parsing the spec and compiling seccomp left freed heap behind; give it
  // back, this process lives as long as the container.
  ::malloc_trim(0);
  report_.started(init_);
  if (report_.detached()) {
    // The caller's stdio must not stay open in a process that outlives it.
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      for (int i = 0; i < 3; i++) ::dup2(null, i);
      ::close(null);
    }
  }
  if (int sig = g_early_signal) forward(sig);
  loop();
  return finish();
}

stack::Result<> Monitor::launch() {
  // Read once here, for process.terminal (the shim is the pty's client),
  // and handed to create as is.
  rt::CreateOptions co;
  co.id = o_.id;
  co.bundle = o_.bundle;
  const std::string config = o_.bundle + "/config.json";
  auto text = io::read_file(config);
  if (!text) return tl::unexpected(text.error().wrap("bundle " + o_.bundle));
  co.config_text = std::move(*text);
  auto spec = rt::parse_spec_text(co.config_text, config);
  if (!spec) return tl::unexpected(spec.error());
  co.spec = &*spec;
  auto stdio = MainStdio::make(spec->process.terminal, o_.open_stdin);
  if (!stdio) return tl::unexpected(stdio.error());
  stdio->fill(co);
  stack::Result<rt::CreateResult> created = rt::create_container(dir_, co);
  // Only the container holds the child's ends now: its exit closes them.
  auto received = created ? stdio->after_create() : stack::Result<>{};
  if (!created) return tl::unexpected(created.error().wrap("create container \"" + o_.id + "\""));
  init_ = created->pid;
  for (auto& w : created->warnings) report_.warn(w);
  if (!received) {
    abort_container();
    return received;
  }
  attach_options_.input = stdio->take_input();
  attach_options_.terminal = stdio->terminal();
  attach_options_.stdin_open = o_.open_stdin;
  attach_options_.stdin_once = o_.stdin_once;
  attach_options_.hold = o_.hold_output;
  // Output also goes to whoever is attached (attach.h); a pty carries both
  // streams as stdout, as Docker's json-file log of a tty container does.
  out_ = std::make_unique<LogStream>(stdio->take_out(), "stdout",
                                     [this](std::string_view d) { attach_.output(orch::FrameType::Stdout, d); });
  err_ = std::make_unique<LogStream>(stdio->take_err(), "stderr",
                                     [this](std::string_view d) { attach_.output(orch::FrameType::Stderr, d); });

  if (auto r = prepare(); !r) {
    abort_container();
    return r;
  }
  auto started = rt::start_container(dir_, o_.id);
  if (!started) {
    abort_container();
    return tl::unexpected(started.error().wrap("start container \"" + o_.id + "\""));
  }
  for (auto& w : *started) report_.warn(w);
  started_at_ = rfc3339_now();
  return {};
}

stack::Result<> Monitor::prepare() {
  STACK_TRY(log_.open());
  // Fail now rather than lose the record when the container has run.
  std::string exit_dir = o_.exit_file.substr(0, o_.exit_file.rfind('/'));
  if (::access(exit_dir.empty() ? "/" : exit_dir.c_str(), W_OK) != 0)
    return stack::fail_errno("--exit-file: directory " + exit_dir);
  STACK_TRY(io::write_file_atomic(o_.pid_file(), std::to_string(::getpid()) + "\n"));
  // The cgroup is read once the init exited, for OOM kills: hold its manager
  // from now on, so a later failure to build it cannot lose the verdict.
  auto rec = dir_.load(o_.id);
  if (!rec) return tl::unexpected(rec.error());
  auto cg = rt::make_cgroup_manager(rec->cgroups_path, o_.id);
  if (cg)
    cgroup_ = std::move(*cg);
  else
    report_.warn("no OOM detection: " + cg.error().message());
  own_pid_ns_ = !same_pid_namespace(init_);
  if (o_.control_socket) {
    auto l = control_.listen(o_.socket_path(), [this](std::string_view line) { return control_request(line); });
    if (!l) report_.warn("no control socket: " + l.error().message());
    // Before the start, so a held one-off misses no output.
    auto a = attach_.listen(o_.attach_path(), std::move(attach_options_));
    if (!a) report_.warn("no attach socket: " + a.error().message());
  }
  // From here signals arrive through the signalfd only.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int s : kForwarded) sigaddset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return stack::fail_errno("sigprocmask");
  signals_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signals_) return stack::fail_errno("signalfd");
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  return {};
}

void Monitor::abort_container() {
  // delete --force kills the init and removes cgroup and state (our log and
  // shim.pid with it); then the zombie is ours to reap.
  auto d = rt::delete_container(dir_, o_.id, true);
  if (!d) say("cleanup after failed start: " + d.error().message());
  ::kill(init_, SIGKILL);
  while (::waitpid(init_, nullptr, 0) < 0 && errno == EINTR) {
  }
  control_.close();
  attach_.close();
}

void Monitor::forward(int sig) {
  // Until we reap it the init's pid cannot be reused: kill(2) is safe.
  if (!exited_) ::kill(init_, sig);
}

void Monitor::loop() {
  std::vector<struct pollfd> fds;
  fds.reserve(6 + ControlServer::kMaxClients + AttachServer::kMaxClients);
  int64_t hold_until_ms = 0;
  for (;;) {
    reap();  // SIGCHLD may predate the signalfd
    bool drained = !out_->open() && !err_->open();
    int timeout = -1;
    if (exited_) {
      int64_t left = drain_until_ms_ - monotonic_ms();
      if (drained || left <= 0) {
        // A held one-off keeps its output and exit code for stackd's attach.
        if (!o_.hold_output || attach_.had_client() || !attach_.active()) return;
        if (!hold_until_ms) hold_until_ms = monotonic_ms() + kHoldExitMs;
        left = hold_until_ms - monotonic_ms();
        if (left <= 0) return;
      }
      timeout = static_cast<int>(left);
    }
    fds.clear();
    fds.push_back({signals_.get(), POLLIN, 0});
    fds.push_back({out_->fd(), POLLIN, 0});  // -1 once closed: poll skips it
    fds.push_back({err_->fd(), POLLIN, 0});
    control_.add_poll_fds(fds);
    attach_.add_poll_fds(fds);
    if (::poll(fds.data(), fds.size(), timeout) < 0) {
      // Only ENOMEM is possible here, and it passes; leaving the loop would
      // record an exit that did not happen.
      if (errno != EINTR) ::usleep(10000);
      continue;
    }
    if (fds[0].revents) on_signals();
    stack::Result<> log_error;
    if (fds[1].revents) out_->pump(log_, log_error);
    if (fds[2].revents) err_->pump(log_, log_error);
    if (auto f = log_.flush(); !f && log_error) log_error = f;
    report_log_error(log_error);
    control_.handle(fds);
    attach_.handle(fds);
  }
}

void Monitor::on_signals() {
  struct signalfd_siginfo si;
  while (::read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    int sig = static_cast<int>(si.ssi_signo);
    if (sig == SIGCHLD)
      reap();
    else
      forward(sig);
  }
}

void Monitor::reap() {
  for (;;) {
    int status = 0;
    pid_t p = ::waitpid(-1, &status, WNOHANG);
    if (p <= 0) return;
    if (p != init_ || exited_) continue;  // an orphan of the container: reaped, nothing to record
    exited_ = true;
    wait_status_ = status;
    finished_at_ = rfc3339_now();
    drain_until_ms_ = monotonic_ms() + kDrainMs;
    // With its own pid namespace the kernel killed the rest of the container
    // with its init. Without one, what the init left running would hold the
    // pipes and the cgroup: end it, as containerd's shim does.
    if (!own_pid_ns_ && cgroup_) {
      auto pids = cgroup_->pids();
      if (pids)
        for (pid_t q : *pids) ::kill(q, SIGKILL);
    }
  }
}

int Monitor::finish() {
  // Pipes still open at the deadline: take what they hold now, then stop.
  stack::Result<> log_error;
  for (LogStream* s : {out_.get(), err_.get()}) {
    s->pump(log_, log_error);  // bounded: a writer that never stops cannot hold us here
    s->close(log_, log_error);
  }
  if (auto f = log_.flush(); !f && log_error) log_error = f;
  report_log_error(log_error);
  if (log_.dropped_bytes() > 0) say("log: " + std::to_string(log_.dropped_bytes()) + " bytes lost to write errors");

  ExitRecord rec = ExitRecord::from_wait_status(wait_status_);
  rec.id = o_.id;
  rec.pid = init_;
  rec.started_at = started_at_;
  rec.finished_at = finished_at_;
  // Before anything deletes the cgroup: its OOM counter is the only witness.
  if (cgroup_) {
    auto st = cgroup_->stats();
    if (st)
      rec.oom_killed = st->oom_kills > 0;
    else
      say("read cgroup stats: " + st.error().message());
  }
  control_.close();
  if (auto w = write_exit_record(o_.exit_file, rec); !w) say(w.error().message());
  attach_.finish(rec.exit_code);  // after the record: a client's next step may read it
  ::unlink(o_.pid_file().c_str());
  if (o_.remove) {
    auto d = rt::delete_container(dir_, o_.id, true);
    if (!d) say(d.error().message());
  }
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  return rec.exit_code;
}

std::string Monitor::control_request(std::string_view line) {
  if (line == "state") {
    nlohmann::json j = {{"id", o_.id},          {"pid", init_},           {"shim_pid", ::getpid()},
                        {"status", exited_ ? "exited" : "running"}, {"started_at", started_at_}};
    if (exited_) {
      auto rec = ExitRecord::from_wait_status(wait_status_);
      j["exit_code"] = rec.exit_code;
      j["signal"] = rec.signal;
      j["finished_at"] = finished_at_;
    }
    return j.dump();
  }
  if (line.rfind("kill ", 0) == 0) {
    auto sig = rt::parse_signal(std::string(line.substr(5)));
    if (!sig) return "error " + sig.error().message();
    if (exited_) return "error container has exited";
    if (::kill(init_, *sig) != 0) return std::string("error kill: ") + std::strerror(errno);
    return "ok";
  }
  return "error unknown command";
}

void Monitor::report_log_error(const stack::Result<>& r) {
  // Once: a full disk would otherwise repeat this for every line.
  if (r || log_error_reported_) return;
  log_error_reported_ = true;
  say("log: " + r.error().message() + " (output is dropped while this lasts)");
}

}  // namespace

int run_monitor(const ShimOptions& options, StartupReport& report) {
  Monitor m(options, report);
  return m.run();
}

}  // namespace stack::shim
