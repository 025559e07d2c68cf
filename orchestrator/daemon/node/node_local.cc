// LocalNode on this host: see local_node.h for what it owns and node_local.h
// for the on-disk layout. Locking: mu_ guards nothing but the per-ref pull
// locks and exec counter; container operations work on distinct ids (the
// engine never runs two operations on one id at once) and on-disk state.
#include "orchestrator/daemon/node/node_local.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/io.h"
#include "netplane/etc_files.h"
#include "netplane/netns.h"
#include "orchestrator/daemon/node/attach_session.h"
#include "orchestrator/daemon/node/child_process.h"
#include "orchestrator/daemon/node/container_stats.h"
#include "orchestrator/daemon/node/image_pull_rule.h"
#include "orchestrator/daemon/node/namespace_joins.h"
#include "orchestrator/daemon/node/exec_session.h"
#include "orchestrator/daemon/node/exit_watcher.h"
#include "orchestrator/daemon/node/node_record.h"
#include "orchestrator/daemon/node/replica_etc.h"
#include "orchestrator/daemon/node/rt_budget.h"
#include "orchestrator/daemon/node/probes.h"
#include "orchestrator/compose/logging.h"
#include "orchestrator/daemon/node/lifecycle_hooks.h"
#include "orchestrator/daemon/node/replica_fs.h"
#include "orchestrator/daemon/node/shim_processes.h"
#include "orchestrator/daemon/node/spec_builder.h"
#include "runtime/container/container.h"
#include "runtime/container/exec.h"
#include "runtime/container/state.h"
#include "runtime/image/image_service.h"
#include "runtime/image/overlay.h"
#include "runtime/image/progress.h"
#include "runtime/image/registry.h"
#include "runtime/kernel/cgroup.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace stack::orch {
namespace {

using stack::fail;

// How long remove() waits for a killed container's shim to record the exit.
constexpr int kShimExitWaitMs = 10000;
// How long the shim may take to create and start a container.
constexpr int kShimStartTimeoutMs = 120000;

bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

class ProgressLines : public img::ProgressSink {
 public:
  explicit ProgressLines(const std::function<void(const std::string&)>& f) : f_(f) {}
  void event(const img::ProgressEvent& e) override {
    if (!f_ || e.state == img::ProgressEvent::State::Downloading) return;  // state changes only
    std::lock_guard lk(mu_);
    f_(img::render_progress_line(e, 0));
  }

 private:
  const std::function<void(const std::string&)>& f_;
  std::mutex mu_;
};

class HostNode : public LocalNode {
 public:
  HostNode(const EngineOptions& o, net::NetworkManager& n) : opts_(o), net_(n), runtime_(o.runtime_root) {}

  stack::Result<void> init() {
    auto svc = img::ImageService::open(opts_.image_root.empty() ? img::kDefaultImageRoot : opts_.image_root);
    if (!svc) return tl::unexpected(svc.error().wrap("open image store"));
    images_.emplace(std::move(*svc));
    // Shims and `stack-runtime exec` enter containers: they are spawned
    // through protected paths made once (CVE-2019-5736, protected_exe.h,
    // ChildProcess::protect), so no container start or health check
    // re-executes itself first.
    auto shim = locate_binary("stack-shim", opts_.shim_path);
    if (!shim) return tl::unexpected(shim.error());
    shim_ = *shim;
    auto runtime = locate_binary("stack-runtime", opts_.runtime_path);
    if (!runtime) return tl::unexpected(runtime.error());
    runtime_bin_ = *runtime;
    // Optional: only `init: true` needs it, and says so when it is missing.
    if (auto init = locate_binary("stack-init", "")) init_bin_ = *init;
    STACK_TRY(ChildProcess::protect(shim_));
    STACK_TRY(ChildProcess::protect(runtime_bin_));
    std::error_code ec;
    for (auto& d : {containers_dir(), opts_.runtime_root}) {
      fs::create_directories(d, ec);
      if (ec) return fail("create " + d + ": " + ec.message(), ec.value());
    }
    auto w = ExitWatcher::start();
    if (!w) return tl::unexpected(w.error());
    watcher_ = std::move(*w);
    return {};
  }

  stack::Result<void> ensure_image(const std::string& ref, const compose::PullRule& rule,
                                const std::function<void(const std::string&)>& progress) override {
    std::shared_ptr<std::mutex> lock;
    {
      std::lock_guard lk(mu_);
      auto& l = pull_locks_[ref];
      if (!l) l = std::make_shared<std::mutex>();
      lock = l;
    }
    std::lock_guard pull_lk(*lock);
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    auto pull = image_wants_pull(images_->store(), ref, rule, now);
    if (!pull) return tl::unexpected(pull.error());
    if (*pull) {
      auto r = img::parse_reference(ref);
      if (!r) return tl::unexpected(r.error());
      img::RegistryConfig cfg;
      for (auto& m : opts_.registry_mirrors) {
        auto eq = m.find('=');
        if (eq == std::string::npos) return fail("registry mirror " + m + ": expected REGISTRY=URL", EINVAL);
        cfg.mirrors[m.substr(0, eq)] = m.substr(eq + 1);
      }
      cfg.insecure = opts_.insecure_registries;
      ProgressLines sink(progress);
      auto d = img::pull(*r, images_->store(), cfg, &sink);
      if (!d) return tl::unexpected(d.error());
    }
    return {};
  }

  stack::Result<compose::Healthcheck> image_healthcheck(const std::string& ref) override {
    auto cfg = images_->image_runtime_config(ref);
    if (!cfg) return tl::unexpected(cfg.error());
    compose::Healthcheck h;
    if (!cfg->healthcheck) return h;  // test empty: none
    const auto& ih = *cfg->healthcheck;
    h.test = ih.test;
    // Zero in the image means Docker's default.
    if (ih.interval_ns > 0) h.interval = ih.interval_ns / 1000000;
    if (ih.timeout_ns > 0) h.timeout = ih.timeout_ns / 1000000;
    if (ih.start_period_ns > 0) h.start_period = ih.start_period_ns / 1000000;
    if (ih.start_interval_ns > 0) h.start_interval = ih.start_interval_ns / 1000000;
    if (ih.retries > 0) h.retries = ih.retries;
    h.disable = !h.test.empty() && h.test[0] == "NONE";
    return h;
  }

  stack::Result<ReplicaRuntime> create_and_start(const ReplicaPlan& plan) override {
    STACK_TRY(rt::validate_id(plan.id));
    std::string dir = container_dir(plan.id);
    if (::mkdir(dir.c_str(), 0711) != 0)
      return stack::fail_errno("create container " + plan.id + ": " + dir);
    auto r = create_in(plan, dir);
    if (!r) {
      // Everything made so far is recorded in node.json or found by id.
      (void)remove_batch({plan.id});
      return tl::unexpected(r.error().wrap("create container " + plan.id));
    }
    return r;
  }

  stack::Result<void> watch(const std::string& id, std::function<void(const ExitInfo&)> on_exit) override {
    std::string exit_file = container_dir(id) + "/exit.json";
    auto fire = [exit_file, on_exit] {
      // The shim writes exit.json just before it exits; a shim that died
      // without one (killed) leaves the code unknown: 255.
      ExitInfo info{255, false, 0};
      if (auto e = parse_exit_record(io::read_text(exit_file), exit_file)) info = *e;
      on_exit(info);
    };
    if (exists(exit_file)) {
      watcher_->post(fire);
      return {};
    }
    pid_t shim = live_shim(opts_.runtime_root, id);
    stack::UniqueFd fd = shim > 0 ? pidfd_of(shim) : stack::UniqueFd();
    if (!fd) {
      if (exists(exit_file)) {  // exited between the two checks
        watcher_->post(fire);
        return {};
      }
      return fail("watch " + id + ": no shim holds the container and it left no exit record", ESRCH);
    }
    return watcher_->add(id, std::move(fd), fire);
  }

  stack::Result<void> signal(const std::string& id, int sig) override {
    // The first stop signal runs the pre_stop hooks first, off the caller's
    // thread; the signal follows them (lifecycle_hooks.h). The thread holds
    // copies only: it may outlive this node.
    if (sig != SIGKILL && rt::validate_id(id)) {
      auto hooks = take_pre_stop(container_dir(id));
      if (!hooks.empty()) {
        HookTarget t{runtime_bin_, opts_.runtime_root, id, container_dir(id)};
        std::thread([t, hooks = std::move(hooks), sig] {
          if (auto h = run_hooks(t, hooks, "pre_stop"); !h) spdlog::warn("{}: {}", t.id, h.error().message());
          (void)rt::kill_container(rt::StateDir(t.runtime_root), t.id, sig);
        }).detach();
        return {};
      }
    }
    auto r = rt::kill_container(runtime_, id, sig);
    if (!r) return tl::unexpected(r.error().wrap("signal " + id));
    return {};
  }

  stack::Result<void> remove(const std::vector<std::string>& ids) override { return remove_batch(ids); }

  stack::Result<std::optional<ReplicaRuntime>> reattach(const std::string& id) override {
    std::string dir = container_dir(id);
    if (!exists(dir)) return std::optional<ReplicaRuntime>();
    auto rec = NodeRecord::parse(io::read_text(dir + "/node.json"), dir + "/node.json");
    if (!rec) return std::optional<ReplicaRuntime>();
    ReplicaRuntime rr;
    rr.id = id;
    rr.addresses = rec->addresses;
    rr.netns_path = rec->netns_path;
    rr.started_at_ms = rec->started_at_ms;
    if (exists(dir + "/exit.json")) {
      rr.running = false;
      return std::optional<ReplicaRuntime>(rr);
    }
    pid_t shim = live_shim(opts_.runtime_root, id);
    auto state = runtime_.load(id);
    if (shim <= 0 || !state || rt::process_start_time(state->pid) != state->pid_start)
      return std::optional<ReplicaRuntime>();
    rr.shim_pid = shim;
    rr.pid = state->pid;
    return std::optional<ReplicaRuntime>(rr);
  }

  std::vector<std::string> list_ids() override {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(containers_dir(), ec); !ec && it != fs::directory_iterator(); ++it)
      if (it->is_directory()) out.push_back(it->path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }

  sched::ProbeResult probe(const std::string& id, const sched::HealthSpec& spec, const std::string& address) override {
    switch (spec.kind) {
      case sched::ProbeKind::Exec:
        return exec_probe({runtime_bin_, opts_.runtime_root, id, container_dir(id)}, spec);
      case sched::ProbeKind::Http:
        return http_probe(address, spec);
      case sched::ProbeKind::Tcp:
        return tcp_probe(address, spec);
      case sched::ProbeKind::None:
        break;
    }
    sched::ProbeResult r;
    r.exit_code = 0;
    return r;
  }

  stack::Result<std::unique_ptr<ExecSession>> exec(const std::string& id, const ExecRequest& req) override {
    if (req.cmd.empty()) return fail("exec " + id + ": no command", EINVAL);
    auto proc = rt::exec_process_from(runtime_, id);
    if (!proc) return tl::unexpected(proc.error().wrap("exec " + id));
    proc->args = req.cmd;
    proc->terminal = req.tty;
    proc->env = merge_env(proc->env, req.env);
    if (req.tty) proc->env = merge_env(proc->env, {"TERM=xterm"});
    if (!req.workdir.empty()) proc->cwd = req.workdir;
    if (!req.user.empty()) {
      std::string rootfs = container_dir(id) + "/rootfs";
      auto passwd = read_in_rootfs(rootfs, "/etc/passwd");
      auto group = read_in_rootfs(rootfs, "/etc/group");
      auto u = resolve_user(req.user, passwd ? *passwd : "", group ? *group : "");
      if (!u) return tl::unexpected(u.error().wrap("exec " + id + ": user"));
      proc->user = u->user;
    }
    rt::Spec holder;
    holder.process = *proc;
    std::string file = container_dir(id) + "/exec-" + std::to_string(++exec_seq_) + ".json";
    STACK_TRY(io::write_file_atomic(file, rt::spec_to_json(holder)["process"].dump()));
    auto s = start_exec_session({runtime_bin_, opts_.runtime_root, id, file, req.tty, req.interactive, req.detach});
    if (!s) {
      ::unlink(file.c_str());
      return tl::unexpected(s.error().wrap("exec " + id));
    }
    return s;
  }

  stack::Result<std::unique_ptr<ExecSession>> attach(const std::string& id, bool forward_exit) override {
    auto shim = connect_attach(runtime_.dir(id) + "/attach.sock", id);
    if (!shim) return tl::unexpected(shim.error());
    return make_attach_session(std::move(*shim), forward_exit);
  }

  std::vector<std::string> log_files(const std::string& id) override {
    std::vector<std::string> out;
    std::string base = container_dir(id) + "/container.log";
    for (int i = 99; i >= 1; i--)  // logging max-file is at most 100; compress: .N.gz (log_chunk.h reads it)
      for (const char* ext : {".gz", ""})
        if (exists(base + "." + std::to_string(i) + ext)) out.push_back(base + "." + std::to_string(i) + ext);
    if (exists(base)) out.push_back(base);
    return out;
  }

  stack::Result<std::string> top(const std::string& id) override {
    auto passwd = read_in_rootfs(container_dir(id) + "/rootfs", "/etc/passwd");
    return container_top(opts_.runtime_root, id, passwd ? *passwd : "");
  }
  stack::Result<std::string> stats(const std::string& id) override {
    return replica_stats(sampler_, net_, opts_.runtime_root, container_dir(id), id);
  }

 private:
  std::string containers_dir() const { return opts_.root + "/containers"; }
  std::string container_dir(const std::string& id) const { return containers_dir() + "/" + id; }

  stack::Result<ReplicaRuntime> create_in(const ReplicaPlan& plan, const std::string& dir);
  stack::Result<void> connect_networks(const ReplicaPlan& plan, NodeRecord& rec, ReplicaRuntime& rr,
                                    std::vector<net::EndpointInfo>& endpoints);
  stack::Result<ReplicaRuntime> start_shim(const ReplicaPlan& plan, const std::string& dir,
                                        const compose::LogSettings& log, ReplicaRuntime rr);
  void stop_container(const std::string& id);
  stack::Result<void> remove_batch(const std::vector<std::string>& ids);

  EngineOptions opts_;
  net::NetworkManager& net_;
  rt::StateDir runtime_;
  std::optional<img::ImageService> images_;
  std::string shim_, runtime_bin_, init_bin_;
  std::unique_ptr<ExitWatcher> watcher_;
  StatsSampler sampler_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> pull_locks_;
  std::atomic<unsigned> exec_seq_{0};
};

stack::Result<ReplicaRuntime> HostNode::create_in(const ReplicaPlan& plan, const std::string& dir) {
  const auto& s = plan.service;
  if (!s.platform.empty())
    if (auto p = img::check_platform_runs_here(s.platform); !p)
      return tl::unexpected(p.error().wrap("service " + s.name));
  STACK_TRY(check_rt_budget(s));
  auto cfg = images_->image_runtime_config(s.image);
  if (!cfg) return tl::unexpected(cfg.error());
  auto lowers = images_->ensure_unpacked(s.image);
  if (!lowers) return tl::unexpected(lowers.error());

  NodeRecord rec;
  rec.id = plan.id;
  rec.name = plan.name;
  rec.image = s.image;
  const std::string& mode = s.network_mode;
  bool host = mode == "host";
  if (mode.rfind("service:", 0) == 0)
    return fail("network_mode " + mode + ": the engine must resolve it to container:<id>", EINVAL);
  std::string netns;
  if (mode.rfind("container:", 0) == 0) {
    netns = opts_.netns_dir + "/" + mode.substr(10);
    if (!net::netns_exists(netns)) return fail("network_mode " + mode + ": no such container network", ENOENT);
  } else if (!host) {
    rec.netns_path = netns = opts_.netns_dir + "/" + plan.id;
  }
  if (!rec.netns_path.empty() && mode != "none")
    for (auto& a : plan.networks) rec.networks.push_back(a.network.name);
  // Recorded before anything exists, so a crash from here on can be undone.
  STACK_TRY(io::write_file_atomic(dir + "/node.json", rec.to_json()));

  ReplicaRuntime rr;
  rr.id = plan.id;
  rr.netns_path = netns;
  std::vector<net::EndpointInfo> endpoints;
  if (!rec.netns_path.empty()) {
    STACK_TRY(net::create_netns(rec.netns_path));
    STACK_TRY(connect_networks(plan, rec, rr, endpoints));
  }
  std::string hostname = s.hostname.empty() ? plan.name : s.hostname;
  if (!host) STACK_TRY(write_replica_etc(plan, dir, hostname, endpoints));
  // A shared network comes with its /etc/hosts and resolv.conf (Docker's way).
  if (mode.rfind("container:", 0) == 0)
    STACK_TRY(copy_network_files(fs::path(dir).parent_path() / mode.substr(10), dir));

  auto rootfs = mount_replica_rootfs(*lowers, dir);
  if (!rootfs) return tl::unexpected(rootfs.error());
  auto files_dir = mount_replica_files(dir, plan.files);
  if (!files_dir) return tl::unexpected(files_dir.error());
  SpecContext ctx;
  ctx.rootfs = *rootfs;
  ctx.files_dir = *files_dir;
  ctx.init_path = init_bin_;
  ctx.etc_dir = dir;
  auto joins = namespace_joins(runtime_, s);
  if (!joins) return tl::unexpected(joins.error());
  ctx.joins = std::move(*joins);
  ctx.netns_path = netns;
  ctx.host_network = host;
  auto passwd = read_in_rootfs(*rootfs, "/etc/passwd");
  if (!passwd) return tl::unexpected(passwd.error());
  auto group = read_in_rootfs(*rootfs, "/etc/group");
  if (!group) return tl::unexpected(group.error());
  ctx.passwd = *passwd;
  ctx.group = *group;
  ctx.stat_device = [](const std::string& path) -> stack::Result<rt::Device> {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return stack::fail_errno("stat " + path);
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) return fail(path + " is not a device", EINVAL);
    rt::Device d;
    d.type = S_ISCHR(st.st_mode) ? "c" : "b";
    d.major = major(st.st_rdev);
    d.minor = minor(st.st_rdev);
    d.file_mode = st.st_mode & 07777;
    d.uid = st.st_uid;
    d.gid = st.st_gid;
    return d;
  };
  ctx.read_file = [](const std::string& path) { return io::read_file(path); };
  auto built = build_spec(plan, *cfg, ctx);
  if (!built) return tl::unexpected(built.error());
  rr.warnings = built->warnings;
  for (auto& d : built->bind_dirs_to_create) {
    std::error_code ec;
    if (!exists(d)) fs::create_directories(d, ec);
    if (ec) return fail("create bind source " + d + ": " + ec.message(), ec.value());
  }
  STACK_TRY(fill_empty_volumes(*rootfs, built->volume_copies));
  STACK_TRY(make_dir_in_rootfs(*rootfs, built->spec.process.cwd));
  STACK_TRY(io::write_file_atomic(dir + "/config.json", rt::spec_to_json(built->spec).dump(1)));
  STACK_TRY(save_pre_stop(dir, s.pre_stop));
  auto started = start_shim(plan, dir, compose::log_settings(s.logging), std::move(rr));
  if (!started || s.post_start.empty()) return started;
  // A failing post_start fails the start: the caller removes the container.
  STACK_TRY(run_hooks({runtime_bin_, opts_.runtime_root, plan.id, dir}, s.post_start, "post_start"));
  return started;
}

stack::Result<void> HostNode::connect_networks(const ReplicaPlan& plan, NodeRecord& rec, ReplicaRuntime& rr,
                                            std::vector<net::EndpointInfo>& endpoints) {
  if (plan.service.network_mode == "none") return {};
  for (size_t i = 0; i < plan.networks.size(); i++) {
    const auto& a = plan.networks[i];
    net::EndpointRequest req;
    req.container_id = plan.id;
    req.network = a.network.name;
    req.netns_path = rec.netns_path;
    req.ifname = "eth" + std::to_string(i);
    req.ipv4_address = a.ipv4_address;
    req.mac_address = a.mac_address;
    req.default_route = i == 0;
    req.egress_bytes_per_sec = plan.service.egress_bytes_per_sec;
    auto ep = net_.connect(req);
    if (!ep) return tl::unexpected(ep.error().wrap("connect " + a.network.name));
    rr.addresses[a.network.name] = ep->address;
    endpoints.push_back(*ep);
  }
  rec.addresses = rr.addresses;
  return {};
}

stack::Result<ReplicaRuntime> HostNode::start_shim(const ReplicaPlan& plan, const std::string& dir,
                                                const compose::LogSettings& log, ReplicaRuntime rr) {
  const std::string& id = plan.id;
  std::vector<std::string> argv = {shim_,        "--root",     opts_.runtime_root, "--id",
                                   id,           "--bundle",   dir,                "--log-file",
                                   dir + "/container.log", "--exit-file", dir + "/exit.json", "--detach"};
  if (!log.enabled) argv.push_back("--no-log");
  if (plan.service.stdin_open) argv.push_back("--stdin");
  if (plan.oneoff_attach) argv.insert(argv.end(), {"--stdin-once", "--hold-output"});
  if (log.max_size) argv.insert(argv.end(), {"--log-max-size", std::to_string(*log.max_size)});
  if (log.max_files) argv.insert(argv.end(), {"--log-max-files", std::to_string(*log.max_files)});
  if (log.compress) argv.push_back("--log-compress");
  // The first process exits once the shim proper reported "started <pid>"
  // (stdout) or "error ..." (stderr); see runtime/shim/startup.h.
  auto run = run_captured(argv, kShimStartTimeoutMs, 64 * 1024);
  if (!run) return tl::unexpected(run.error());
  std::istringstream lines(run->output);
  std::string started, errors;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("started ", 0) == 0)
      started = line.substr(8);
    else if (line.rfind("stack-shim: warning: ", 0) == 0)
      rr.warnings.push_back(line.substr(21));
    else if (!line.empty())
      errors += (errors.empty() ? "" : "; ") + (line.rfind("stack-shim: ", 0) == 0 ? line.substr(12) : line);
  }
  if (run->timed_out) return fail("stack-shim did not report within " + std::to_string(kShimStartTimeoutMs / 1000) + "s", ETIMEDOUT);
  if (run->status != 0 || started.empty())
    return fail(errors.empty() ? "stack-shim exited with status " + std::to_string(run->status) : errors, EIO);
  auto state = runtime_.load(id);
  if (!state) return tl::unexpected(state.error());
  rr.pid = state->pid;
  rr.shim_pid = live_shim(opts_.runtime_root, id);
  rr.started_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  auto rec = NodeRecord::parse(io::read_text(dir + "/node.json"), dir + "/node.json");
  if (!rec) return tl::unexpected(rec.error());
  rec->addresses = rr.addresses;
  rec->started_at_ms = rr.started_at_ms;
  STACK_TRY(io::write_file_atomic(dir + "/node.json", rec->to_json()));
  return rr;
}

// SIGKILL, then wait for the shim to record the exit and go.
void HostNode::stop_container(const std::string& id) {
  pid_t shim = live_shim(opts_.runtime_root, id);
  stack::UniqueFd fd = shim > 0 ? pidfd_of(shim) : stack::UniqueFd();
  (void)rt::kill_container(runtime_, id, SIGKILL, true);
  if (!fd) return;
  struct pollfd p = {fd.get(), POLLIN, 0};
  int n;
  do n = ::poll(&p, 1, kShimExitWaitMs);
  while (n < 0 && errno == EINTR);
  if (n == 0) ::syscall(SYS_pidfd_send_signal, fd.get(), SIGKILL, nullptr, 0);
}

stack::Result<void> HostNode::remove_batch(const std::vector<std::string>& ids) {
  std::optional<stack::Error> first;
  auto note = [&](const stack::Result<void>& r, const std::string& what) {
    if (!r && !first) first = r.error().wrap(what);
  };
  std::vector<std::pair<std::string, std::string>> endpoints;
  std::vector<std::pair<std::string, NodeRecord>> records;
  for (auto& id : ids) {
    if (!rt::validate_id(id)) continue;
    watcher_->cancel(id);
    sampler_.forget(id);
    std::string dir = container_dir(id);
    NodeRecord rec;
    if (auto r = NodeRecord::parse(io::read_text(dir + "/node.json"), dir + "/node.json")) rec = *r;
    for (auto& n : rec.networks) endpoints.push_back({id, n});
    if (exists(runtime_.dir(id))) {
      stop_container(id);
      // Poststop hook warnings are not ours to report: stackd's specs have no hooks.
      stack::Result<> d = rt::delete_container(runtime_, id, true).map([](auto&&) {});
      if (!d && d.error().code == EBUSY) d = remove_unfinished(runtime_, id, kShimExitWaitMs);  // stop_container() ended its shim
      if (!d && d.error().code != ENOENT) note(d, "remove " + id);
    }
    records.push_back({id, rec});
  }
  if (!endpoints.empty()) note(net_.disconnect(endpoints), "disconnect");
  for (auto& [id, rec] : records) {
    std::string dir = container_dir(id);
    if (!rec.netns_path.empty()) note(net::delete_netns(rec.netns_path), "remove " + id);
    note(unmount_replica_rootfs(dir), "remove " + id);
    note(unmount_replica_files(dir), "remove " + id);
    if (exists(dir)) note(img::remove_container_layer(dir), "remove " + id);
  }
  if (first) return tl::unexpected(*first);
  return {};
}

}  // namespace

stack::Result<std::string> locate_binary(const std::string& name, const std::string& configured) {
  if (!configured.empty()) {
    if (::access(configured.c_str(), X_OK) != 0) return stack::fail_errno(name + ": " + configured);
    return configured;
  }
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    fs::path d = self.parent_path();
    // Installed side by side; stackd in build/orchestrator/ and tests in
    // build/tests/ with the runtime's binaries in build/runtime/.
    candidates = {d / name, d / ".." / "runtime" / name, d / ".." / ".." / "runtime" / name};
  }
  if (const char* path = ::getenv("PATH")) {
    std::istringstream in(path);
    for (std::string p; std::getline(in, p, ':');)
      if (!p.empty()) candidates.push_back(fs::path(p) / name);
  }
  for (auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0) return c.lexically_normal().string();
  return stack::fail(name + ": not found next to " + self.string() + " nor in $PATH", ENOENT);
}

stack::Result<std::unique_ptr<LocalNode>> LocalNode::open(const EngineOptions& options, net::NetworkManager& networks) {
  auto node = std::make_unique<HostNode>(options, networks);
  STACK_TRY(node->init());
  return std::unique_ptr<LocalNode>(std::move(node));
}

}  // namespace stack::orch
