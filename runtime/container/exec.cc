#include "runtime/container/exec.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/io.h"
#include "runtime/container/plan.h"
#include "runtime/kernel/cgroup.h"
#include "runtime/kernel/clone.h"
#include "runtime/kernel/namespaces.h"
#include "runtime/kernel/terminal.h"

namespace stack::rt {

Result<Process> exec_process_from(const StateDir& dir, const std::string& id) {
  auto spec = load_spec(dir.config(id));
  if (!spec) return tl::unexpected(spec.error());
  return spec->process;
}

Result<int> exec_in_container(const StateDir& dir, const ExecOptions& o) {
  auto rec = dir.load(o.id);
  if (!rec) return tl::unexpected(rec.error());
  Status st = status_of(dir, *rec);
  if (st != Status::Running && st != Status::Created)
    return fail("cannot exec in container \"" + o.id + "\": it is " + to_string(st), EINVAL);
  auto spec = load_spec(dir.config(o.id));
  if (!spec) return tl::unexpected(spec.error());

  PlanOwner owner;
  STACK_TRY(plan_process(o.process, *spec, dir.seccomp_cache(), owner));
  InitPlan& plan = owner.plan;
  plan.preserve_fds = o.preserve_fds;

  // Join the namespaces the container has of its own: compare with ours so
  // a container sharing e.g. the host network is not "joined" needlessly.
  const std::string base = "/proc/" + std::to_string(rec->pid) + "/ns/";
  UniqueFd pidns;
  for (auto& kind : namespace_kinds()) {
    if (!kernel_has_namespace(kind)) continue;
    struct stat theirs, ours;
    std::string p = base + kind.proc;
    if (::stat(p.c_str(), &theirs) != 0) continue;
    if (::stat((std::string("/proc/self/ns/") + kind.proc).c_str(), &ours) == 0 && ours.st_ino == theirs.st_ino)
      continue;
    auto fd = open_namespace(p, kind);
    if (!fd) return tl::unexpected(fd.error());
    if (kind.clone_flag == CLONE_NEWPID) {
      pidns = std::move(*fd);
      continue;
    }
    plan.join.push_back({fd->get(), kind.clone_flag});
    owner.fds.push_back(std::move(*fd));
  }
  // The start time is checked after the fds are open: they pin the
  // namespaces of the process we verified, not of a recycled pid.
  if (process_start_time(rec->pid) != rec->pid_start)
    return fail("container \"" + o.id + "\" is not running", ESRCH);
  if (pidns && ::setns(pidns.get(), CLONE_NEWPID) != 0) return fail_errno("join pid namespace");

  UniqueFd console, proxy_end;
  if (o.process.terminal) {
    if (!o.console_socket.empty()) {
      auto c = connect_console_socket(o.console_socket);
      if (!c) return tl::unexpected(c.error());
      console = std::move(*c);
    } else {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return fail_errno("socketpair");
      console.reset(sv[1]);
      proxy_end.reset(sv[0]);
    }
    plan.console_socket = console.get();
  }

  auto cg = make_cgroup_manager(rec->cgroups_path, o.id);
  if (!cg) return tl::unexpected(cg.error());

  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) return fail_errno("socketpair");
  UniqueFd parent_end(sp[0]), child_end(sp[1]);
  pid_t pid = clone_process(0);
  if (pid < 0) return fail_errno("clone exec process");
  if (pid == 0) {
    parent_end.release();
    run_init(plan, child_end.get());
  }
  child_end.reset();
  auto joined = (*cg)->add_pid(pid);
  if (!joined) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return tl::unexpected(joined.error().wrap("join cgroup"));
  }
  if (::send(parent_end.get(), &kGo, 1, MSG_NOSIGNAL) != 1) return fail_errno("signal exec process");
  InitMessage msg;
  ssize_t n = ::read(parent_end.get(), &msg, sizeof msg);
  if (n != static_cast<ssize_t>(sizeof msg) || msg.type != InitMessage::kReady) {
    ::waitpid(pid, nullptr, 0);
    if (n != static_cast<ssize_t>(sizeof msg)) return fail("exec process exited during setup", EIO);
    return fail(std::string("exec: ") + msg.error.what, msg.error.code);
  }
  if (::send(parent_end.get(), &kLimitsApplied, 1, MSG_NOSIGNAL) != 1) return fail_errno("release exec process");
  if (!o.pid_file.empty()) STACK_TRY(io::write_file_atomic(o.pid_file, std::to_string(pid)));
  if (o.detach) return 0;

  if (proxy_end) {
    console.reset();
    auto master = receive_pty_master(proxy_end.get());
    if (master) proxy_pty(master->get());
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace stack::rt
