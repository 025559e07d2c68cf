#include "runtime/container/container.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/io.h"
#include "runtime/container/device_rules.h"
#include "runtime/container/hooks.h"
#include "runtime/container/plan.h"
#include "runtime/kernel/cgroup.h"
#include "runtime/kernel/clone.h"
#include "runtime/kernel/mountinfo.h"
#include "runtime/kernel/terminal.h"

namespace stack::rt {
namespace {

Result<std::string> absolute_dir(const std::string& path, const char* what) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) return fail_errno(std::string(what) + " " + path);
  std::string out = real;
  ::free(real);
  struct stat st;
  if (::stat(out.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return fail(std::string(what) + " " + path + " is not a directory", ENOTDIR);
  return out;
}

Result<> write_id_map(pid_t pid, const char* file, const std::vector<IdMapping>& maps) {
  std::string content;
  for (auto& m : maps)
    content += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno("open " + path);
  ssize_t w = ::write(fd, content.data(), content.size());
  int e = errno;
  ::close(fd);
  if (w < 0) return fail("write " + path, e);
  return {};
}

// start and delete only need the spec for its hooks: skip parsing the whole
// config (most of it is the seccomp profile) when it names none of `stage`.
Result<Spec> load_spec_if_hooked(const std::string& path, const char* stage) {
  std::string text = io::read_text(path);
  if (text.find(std::string("\"") + stage + "\"") == std::string::npos) return fail("no hooks", ENOENT);
  return parse_spec_text(text, path);
}

// The runtime's own parent cgroup ("/stack") is removed with its last
// container, so a host is left as it was found. Best effort: rmdir fails
// harmlessly while other containers live there, and a create racing with it
// recreates the parent (make_dirs is mkdir -p). A parent given a real-time
// budget (stackd's --cpu-rt-runtime, or the admin) stays: removing it would
// take the budget with it, and the next real-time container, perhaps another
// daemon's, would find none.
void remove_default_parent(const CgroupManager& cg) {
  if (cg.path().rfind("/stack/", 0) != 0) return;
  for (auto& h : cg.hierarchies()) {
    const std::string parent = h.mount_point + "/stack";
    if (!h.unified) {
      auto budget = cgroupfs::read_limit(parent + "/cpu.rt_runtime_us");
      if (budget && budget->value_or(0) > 0) continue;
    }
    ::rmdir(parent.c_str());
  }
}

// Waits until `pid` is gone (exited, zombie or reaped), up to `ms`.
bool wait_gone(pid_t pid, uint64_t start, int ms) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return true;  // already reaped
  UniqueFd pidfd(fd);
  if (process_start_time(pid) != start) return true;
  struct pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) > 0;
}

// Everything create made, undone in reverse unless disarmed.
struct CreateRollback {
  const StateDir& dir;
  std::string id;
  std::unique_ptr<CgroupManager> cgroup;
  pid_t pid = 0;
  std::string runtime_ns_mounts;  // rootfs whose mounts are in our namespace ("" = none)
  bool armed = true;
  ~CreateRollback() {
    if (!armed) return;
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (!runtime_ns_mounts.empty()) (void)unmount_under(runtime_ns_mounts);
    if (cgroup && cgroup->destroy()) remove_default_parent(*cgroup);  // a refused create leaves no /stack
    (void)dir.remove(id);
  }
};

}  // namespace

Result<CreateResult> create_container(const StateDir& dir, const CreateOptions& o) {
  auto valid = validate_id(o.id);
  if (!valid) return tl::unexpected(valid.error());
  auto bundle = absolute_dir(o.bundle.empty() ? "." : o.bundle, "bundle");
  if (!bundle) return tl::unexpected(bundle.error());
  std::string config_text;
  Spec loaded;
  const Spec* spec = o.spec;
  if (!spec) {
    config_text = io::read_text(*bundle + "/config.json");
    if (config_text.empty()) return fail("bundle " + *bundle + ": no config.json", ENOENT);
    auto parsed = parse_spec_text(config_text, *bundle + "/config.json");
    if (!parsed) return tl::unexpected(parsed.error());
    loaded = std::move(*parsed);
    spec = &loaded;
  } else {
    config_text = o.config_text.empty() ? spec_to_json(*spec).dump() : o.config_text;
  }
  std::string rootfs_path = spec->root.path[0] == '/' ? spec->root.path : *bundle + "/" + spec->root.path;
  auto rootfs = absolute_dir(rootfs_path, "root.path");
  if (!rootfs) return tl::unexpected(rootfs.error());
  if (spec->process.terminal && o.console_socket.empty() && o.console_fd < 0)
    return fail("process.terminal is true: --console-socket is required", EINVAL);

  auto reserved = dir.reserve(o.id);
  if (!reserved) return tl::unexpected(reserved.error());
  CreateRollback rollback{dir, o.id, nullptr};

  CreateResult result;
  PlanOwner owner;
  auto flags = plan_container(*spec, {*rootfs, *bundle, o.no_pivot}, dir.seccomp_cache(), owner);
  if (!flags) return tl::unexpected(flags.error());
  result.warnings = owner.warnings;
  InitPlan& plan = owner.plan;
  plan.preserve_fds = o.preserve_fds;
  // The child dup3()s these onto 0-2 in order, so none may already be 0-2.
  std::vector<UniqueFd> stdio_copies;
  for (int i = 0; i < 3; i++) {
    if (o.stdio[i] < 0) continue;
    int fd = o.stdio[i];
    if (fd < 3) {
      fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
      if (fd < 0) return fail_errno("dup stdio fd");
      stdio_copies.emplace_back(fd);
    }
    plan.stdio[i] = fd;
  }

  UniqueFd fifo;
  if (o.wait_for_start) {
    if (::mkfifo(dir.fifo(o.id).c_str(), 0622) != 0) return fail_errno("mkfifo " + dir.fifo(o.id));
    ::chmod(dir.fifo(o.id).c_str(), 0622);  // not subject to umask: any container uid may write it
    fifo.reset(::open(dir.fifo(o.id).c_str(), O_PATH | O_CLOEXEC));
    if (!fifo) return fail_errno("open " + dir.fifo(o.id));
    plan.fifo_fd = fifo.get();
  }
  UniqueFd console;
  if (spec->process.terminal) {
    if (o.console_fd >= 0) {
      plan.console_socket = o.console_fd;
    } else {
      auto c = connect_console_socket(o.console_socket);
      if (!c) return tl::unexpected(c.error());
      console = std::move(*c);
      plan.console_socket = console.get();
    }
  }
  STACK_TRY(io::write_file_atomic(dir.config(o.id), config_text));

  auto cg = make_cgroup_manager(spec->linux.cgroups_path, o.id);
  if (!cg) return tl::unexpected(cg.error().wrap("linux.cgroupsPath"));
  rollback.cgroup = std::move(*cg);
  // Device rules go in before the init exists, so no process of the
  // container ever runs without default-deny (device_rules.h). The setup
  // list keeps mknod, which the init needs for /dev; the spec's own rules
  // and the other limits are written once /dev is made (see init.h).
  Resources setup;
  setup.devices = default_device_rules();
  auto made = rollback.cgroup->create(setup);
  if (!made) return tl::unexpected(made.error().wrap("linux.cgroupsPath"));

  // A pid namespace given by path is entered here: setns(CLONE_NEWPID) only
  // affects children, so the clone below lands in it.
  for (auto it = plan.join.begin(); it != plan.join.end(); ++it) {
    if (it->flag == CLONE_NEWPID) {
      if (::setns(it->fd, CLONE_NEWPID) != 0) return fail_errno("join pid namespace");
      plan.join.erase(it);
      break;
    }
  }

  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) return fail_errno("socketpair");
  UniqueFd parent_end(sp[0]), child_end(sp[1]);
  pid_t pid = clone_process(static_cast<uint64_t>(*flags));
  if (pid < 0) return fail_errno("clone container init");
  if (pid == 0) {
    parent_end.release();
    run_init(plan, child_end.get());
  }
  rollback.pid = pid;
  child_end.reset();
  const bool mounts_in_runtime_ns = !has_namespace(*spec, "mount");
  if (mounts_in_runtime_ns) rollback.runtime_ns_mounts = *rootfs;

  if (plan.new_user_ns) {
    STACK_TRY_CTX(write_id_map(pid, "uid_map", spec->linux.uid_mappings), "linux.uidMappings");
    STACK_TRY_CTX(write_id_map(pid, "gid_map", spec->linux.gid_mappings), "linux.gidMappings");
  }
  STACK_TRY_CTX(rollback.cgroup->add_pid(pid), "join cgroup");
  if (spec->process.oom_score_adj) {
    std::string path = "/proc/" + std::to_string(pid) + "/oom_score_adj";
    std::ofstream f(path);
    f << *spec->process.oom_score_adj;
    f.flush();
    if (!f) result.warnings.push_back("process.oomScoreAdj: could not set " + std::to_string(*spec->process.oom_score_adj) +
                                      " (lowering it needs CAP_SYS_RESOURCE)");
  }
  ContainerRecord rec;
  rec.id = o.id;
  rec.bundle = *bundle;
  rec.rootfs = *rootfs;
  rec.pid = pid;
  rec.pid_start = process_start_time(pid);
  rec.created = now_rfc3339();
  rec.cgroups_path = spec->linux.cgroups_path;
  rec.annotations = spec->annotations;
  rec.mounts_in_runtime_ns = mounts_in_runtime_ns;
  if (!spec->hooks.create_runtime.empty() || !spec->hooks.prestart.empty()) {
    // The runtime spec's state table: prestart sees "created", createRuntime
    // "creating".
    STACK_TRY(run_hooks(spec->hooks.prestart, oci_state(rec, Status::Created).dump(), "prestart"));
    STACK_TRY(run_hooks(spec->hooks.create_runtime, oci_state(rec, Status::Creating).dump(), "createRuntime"));
  }

  if (::send(parent_end.get(), &kGo, 1, MSG_NOSIGNAL) != 1) return fail_errno("signal container init");
  InitMessage msg;
  ssize_t n = ::read(parent_end.get(), &msg, sizeof msg);
  if (n != static_cast<ssize_t>(sizeof msg)) return fail("container init exited during setup", EIO);
  if (msg.type != InitMessage::kReady) return fail(std::string("container init: ") + msg.error.what, msg.error.code);
  if (spec->linux.resources) {
    Resources limits = *spec->linux.resources;
    // The whole list again (v1 starts over at its deny-all; v2 replaces the
    // program), now with the spec's rules; none when it has none.
    limits.devices.clear();
    if (!spec->linux.resources->devices.empty()) limits.devices = effective_device_rules(*spec);
    if (auto applied = rollback.cgroup->apply(limits); !applied)
      return tl::unexpected(applied.error().within("linux.resources"));
  }
  if (::send(parent_end.get(), &kLimitsApplied, 1, MSG_NOSIGNAL) != 1) return fail_errno("release container init");

  STACK_TRY(dir.save(rec));
  if (!o.pid_file.empty()) STACK_TRY(io::write_file_atomic(o.pid_file, std::to_string(pid)));
  rollback.armed = false;
  result.pid = pid;
  return result;
}

Result<std::vector<std::string>> start_container(const StateDir& dir, const std::string& id) {
  auto rec = dir.load(id);
  if (!rec) return tl::unexpected(rec.error());
  Status st = status_of(dir, *rec);
  if (st != Status::Created)
    return fail("cannot start container \"" + id + "\": it is " + to_string(st), EINVAL);
  UniqueFd fifo(::open(dir.fifo(id).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) return fail_errno("open " + dir.fifo(id));
  // The writer is the container's init, blocked in open(2) until we open the
  // read end; then it writes one byte and keeps the fd, which is close-on-
  // exec: end of file means the user's program has been executed (or the
  // init died trying), and only then may poststart hooks run. Poll in slices
  // so a container killed before its byte does not hang us.
  bool got_byte = false;
  for (;;) {
    struct pollfd p{fifo.get(), POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r > 0) {
      char c;
      ssize_t n = ::read(fifo.get(), &c, 1);
      if (n == 1) got_byte = true;
      else if (n == 0 && got_byte) break;  // the writer is closed: exec'd
    }
    if (r < 0 && errno != EINTR) return fail_errno("wait on exec.fifo");
    if (!got_byte && process_start_time(rec->pid) != rec->pid_start)
      return fail("container \"" + id + "\" exited before it was started", ESRCH);
  }
  ::unlink(dir.fifo(id).c_str());
  std::vector<std::string> warnings;
  auto spec = load_spec_if_hooked(dir.config(id), "poststart");
  if (spec && !spec->hooks.poststart.empty())
    warnings = run_hooks_warning(spec->hooks.poststart, oci_state(*rec, Status::Running).dump(), "poststart");
  return warnings;
}

Result<> kill_container(const StateDir& dir, const std::string& id, int signal, bool all) {
  auto rec = dir.load(id);
  if (!rec) return tl::unexpected(rec.error());
  if (all) {
    auto cg = make_cgroup_manager(rec->cgroups_path, id);
    if (cg) {
      auto pids = (*cg)->pids();
      if (pids)
        for (pid_t p : *pids) ::kill(p, signal);
    }
  }
  if (status_of(dir, *rec) == Status::Stopped) {
    if (all) return {};
    return fail("container \"" + id + "\" is not running", ESRCH);
  }
  // A pidfd pins the process: once the start time matches, the signal cannot
  // reach a recycled pid.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, rec->pid, 0)));
  if (!pidfd || process_start_time(rec->pid) != rec->pid_start)
    return fail("container \"" + id + "\" is not running", ESRCH);
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) != 0)
    return fail_errno("signal container \"" + id + "\"");
  return {};
}

Result<std::vector<std::string>> delete_container(const StateDir& dir, const std::string& id, bool force) {
  auto rec = dir.load(id);
  if (!rec) return tl::unexpected(rec.error());
  Status st = status_of(dir, *rec);
  if ((st == Status::Running || st == Status::Paused) && !force)
    return fail("cannot delete container \"" + id + "\" that is " + to_string(st) + " (use --force)", EBUSY);
  if (st != Status::Stopped) {
    // A created container is killed without --force, as runc does.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, rec->pid, 0)));
    if (pidfd && process_start_time(rec->pid) == rec->pid_start)
      ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
    if (!wait_gone(rec->pid, rec->pid_start, 10000))
      return fail("container \"" + id + "\" did not exit after SIGKILL", ETIMEDOUT);
  }
  auto cg = make_cgroup_manager(rec->cgroups_path, id);
  if (!cg) return tl::unexpected(cg.error());
  STACK_TRY_CTX((*cg)->destroy(), "remove cgroup of \"" + id + "\"");
  remove_default_parent(**cg);
  if (rec->mounts_in_runtime_ns)
    STACK_TRY_CTX(unmount_under(rec->rootfs), "remove the mounts of \"" + id + "\" (no mount namespace of its own)");
  std::vector<std::string> warnings;
  auto spec = load_spec_if_hooked(dir.config(id), "poststop");
  if (spec && !spec->hooks.poststop.empty())
    warnings = run_hooks_warning(spec->hooks.poststop, oci_state(*rec, Status::Stopped).dump(), "poststop");
  STACK_TRY(dir.remove(id));
  return warnings;
}

Result<nlohmann::json> container_state(const StateDir& dir, const std::string& id) {
  auto rec = dir.load(id);
  if (!rec) return tl::unexpected(rec.error());
  return oci_state(*rec, status_of(dir, *rec));
}

Result<std::vector<pid_t>> container_pids(const StateDir& dir, const std::string& id) {
  auto rec = dir.load(id);
  if (!rec) return tl::unexpected(rec.error());
  auto cg = make_cgroup_manager(rec->cgroups_path, id);
  if (!cg) return tl::unexpected(cg.error());
  return (*cg)->pids();
}

}  // namespace stack::rt
