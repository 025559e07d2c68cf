#include "runtime/cli/commands.h"
#include "base/io.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/cli/log.h"
#include "runtime/container/container.h"
#include "runtime/container/default_spec.h"
#include "runtime/container/exec.h"
#include "runtime/kernel/cgroup.h"
#include "runtime/kernel/terminal.h"

namespace stack::cli {

using nlohmann::json;
using rt::StateDir;

namespace {

int report(const stack::Error& e) {
  log_error(e.message());
  return 1;
}

// Waits for `pid` (our child), forwarding terminal signals to it, and
// returns its exit code (128+signal when killed), as runc run does.
int wait_forwarding(pid_t pid) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  int status = 0;
  for (;;) {
    struct pollfd fds[2] = {{pfd, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si;
      if (::read(sfd, &si, sizeof si) == sizeof si) ::kill(pid, static_cast<int>(si.ssi_signo));
    }
    if (fds[0].revents & POLLIN) break;
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(sfd);
  ::close(pfd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

stack::Result<> parse_user(const std::string& s, rt::User& u) {
  auto colon = s.find(':');
  try {
    u.uid = static_cast<uint32_t>(std::stoul(s.substr(0, colon)));
    if (colon != std::string::npos) u.gid = static_cast<uint32_t>(std::stoul(s.substr(colon + 1)));
  } catch (...) {
    return stack::fail("--user: expected uid[:gid], got \"" + s + "\"", EINVAL);
  }
  return {};
}

}  // namespace

int cmd_spec(const Globals&, const SpecArgs& a) {
  std::string path = a.bundle + "/config.json";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    log_error("File " + path + " exists. Remove it first");
    return 1;
  }
  rt::Spec s = rt::default_spec();
  s.process.terminal = a.terminal;
  if (a.rootless) {
    s.linux.namespaces.push_back({"user", ""});
    s.linux.uid_mappings = {{0, static_cast<uint32_t>(::getuid()), 1}};
    s.linux.gid_mappings = {{0, static_cast<uint32_t>(::getgid()), 1}};
  }
  std::ofstream f(path);
  f << rt::spec_to_json(s).dump(1, '\t') << "\n";
  if (!f) {
    log_error("write " + path + " failed");
    return 1;
  }
  return 0;
}

static rt::CreateOptions create_options(const CreateArgs& a) {
  rt::CreateOptions o;
  o.id = a.id;
  o.bundle = a.bundle;
  o.pid_file = a.pid_file;
  o.console_socket = a.console_socket;
  o.preserve_fds = a.preserve_fds;
  o.no_pivot = a.no_pivot;
  return o;
}

int cmd_create(const Globals& g, const CreateArgs& a) {
  StateDir dir(g.root);
  auto r = rt::create_container(dir, create_options(a));
  if (!r) return report(r.error());
  for (auto& w : r->warnings) log_warn(w);
  return 0;
}

int cmd_run(const Globals& g, const CreateArgs& a) {
  StateDir dir(g.root);
  rt::CreateOptions o = create_options(a);
  o.wait_for_start = false;
  // run -t without a console socket: we are the terminal's client ourselves.
  // Read once: parsed here for the terminal decision, saved as is by create.
  const std::string path = a.bundle + "/config.json";
  auto text = stack::io::read_file(path);
  if (!text) return report({text.error().code, "bundle " + a.bundle + ": no config.json"});
  o.config_text = std::move(*text);
  auto spec = rt::parse_spec_text(o.config_text, path);
  if (!spec) return report(spec.error());
  o.spec = &*spec;
  stack::UniqueFd proxy_end, child_end;
  if (spec->process.terminal && a.console_socket.empty()) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return report({errno, "socketpair"});
    proxy_end.reset(sv[0]);
    child_end.reset(sv[1]);
    o.console_fd = child_end.get();
  }
  auto r = rt::create_container(dir, o);
  if (!r) return report(r.error());
  for (auto& w : r->warnings) log_warn(w);
  if (a.detach) return 0;
  child_end.reset();
  int code = 0;
  if (proxy_end) {
    auto master = rt::receive_pty_master(proxy_end.get());
    if (master) rt::proxy_pty(master->get());
  }
  code = wait_forwarding(r->pid);
  if (!a.keep) {
    auto d = rt::delete_container(dir, a.id, true);
    if (!d) report(d.error());
    else
      for (auto& w : *d) log_warn(w);
  }
  return code;
}

int cmd_start(const Globals& g, const std::string& id) {
  auto r = rt::start_container(StateDir(g.root), id);
  if (!r) return report(r.error());
  for (auto& w : *r) log_warn(w);
  return 0;
}

int cmd_state(const Globals& g, const std::string& id) {
  auto r = rt::container_state(StateDir(g.root), id);
  if (!r) return report(r.error());
  std::cout << r->dump(2) << std::endl;
  return 0;
}

int cmd_kill(const Globals& g, const KillArgs& a) {
  auto sig = rt::parse_signal(a.signal);
  if (!sig) return report(sig.error());
  auto r = rt::kill_container(StateDir(g.root), a.id, *sig, a.all);
  return r ? 0 : report(r.error());
}

int cmd_delete(const Globals& g, const DeleteArgs& a) {
  StateDir dir(g.root);
  auto r = rt::delete_container(dir, a.id, a.force);
  if (!r && a.force && r.error().code == ENOENT) return 0;  // runc: delete -f of a missing id succeeds
  if (!r) return report(r.error());
  for (auto& w : *r) log_warn(w);
  return 0;
}

int cmd_exec(const Globals& g, const ExecArgs& a) {
  StateDir dir(g.root);
  rt::ExecOptions o;
  o.id = a.id;
  if (!a.process_file.empty()) {
    std::ifstream f(a.process_file);
    if (!f) return report({errno, "open " + a.process_file});
    json j = json::parse(f, nullptr, false);
    if (j.is_discarded()) return report({EINVAL, a.process_file + ": invalid JSON"});
    auto p = rt::parse_process(j, a.process_file);
    if (!p) return report(p.error());
    o.process = *p;
  } else {
    if (a.args.empty()) return report({EINVAL, "exec: no command given (args or --process)"});
    auto p = rt::exec_process_from(dir, a.id);
    if (!p) return report(p.error());
    o.process = *p;
    o.process.args = a.args;
    o.process.terminal = a.tty;
    if (!a.cwd.empty()) o.process.cwd = a.cwd;
    for (auto& e : a.env) o.process.env.push_back(e);
    if (!a.user.empty()) {
      auto u = parse_user(a.user, o.process.user);
      if (!u) return report(u.error());
    }
    if (a.no_new_privs) o.process.no_new_privileges = true;
    if (!a.caps.empty()) {
      if (!o.process.capabilities) o.process.capabilities = rt::Capabilities{};
      auto& c = *o.process.capabilities;
      for (auto& cap : a.caps)
        for (auto* set : {&c.bounding, &c.effective, &c.permitted}) set->push_back(cap);
    }
  }
  o.console_socket = a.console_socket;
  o.detach = a.detach;
  o.pid_file = a.pid_file;
  o.preserve_fds = a.preserve_fds;
  auto r = rt::exec_in_container(dir, o);
  if (!r) return report(r.error());
  return *r;
}

int cmd_list(const Globals& g, const ListArgs& a) {
  StateDir dir(g.root);
  auto ids = dir.list();
  if (!ids) return report(ids.error());
  json all = json::array();
  for (auto& id : *ids) {
    auto s = rt::container_state(dir, id);
    if (s) all.push_back(*s);
  }
  if (a.quiet) {
    for (auto& s : all) std::cout << s["id"].get<std::string>() << "\n";
  } else if (a.format == "json") {
    std::cout << all.dump() << "\n";
  } else {
    std::printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
    for (auto& s : all)
      std::printf("%-24s %-8d %-10s %-40s %s\n", s["id"].get<std::string>().c_str(), s["pid"].get<int>(),
                  s["status"].get<std::string>().c_str(), s["bundle"].get<std::string>().c_str(),
                  s["created"].get<std::string>().c_str());
  }
  return 0;
}

int cmd_ps(const Globals& g, const PsArgs& a) {
  auto pids = rt::container_pids(StateDir(g.root), a.id);
  if (!pids) return report(pids.error());
  if (a.format == "json") {
    std::cout << json(*pids).dump() << "\n";
    return 0;
  }
  std::printf("%-8s %s\n", "PID", "CMD");
  for (pid_t p : *pids) {
    std::ifstream f("/proc/" + std::to_string(p) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (auto& c : cmd)
      if (c == '\0') c = ' ';
    std::printf("%-8d %s\n", p, cmd.c_str());
  }
  return 0;
}

int cmd_pause(const Globals& g, const std::string& id, bool pause) {
  StateDir dir(g.root);
  auto rec = dir.load(id);
  if (!rec) return report(rec.error());
  auto cg = rt::make_cgroup_manager(rec->cgroups_path, id);
  if (!cg) return report(cg.error());
  auto r = (*cg)->freeze(pause);
  return r ? 0 : report(r.error());
}

int cmd_events(const Globals& g, const std::string& id) {
  StateDir dir(g.root);
  auto rec = dir.load(id);
  if (!rec) return report(rec.error());
  auto cg = rt::make_cgroup_manager(rec->cgroups_path, id);
  if (!cg) return report(cg.error());
  auto st = (*cg)->stats();
  if (!st) return report(st.error());
  // runc's `events --stats` shape, plus the OOM counters.
  json mem = {{"usage", {{"usage", st->memory_usage}, {"max", st->memory_max_usage}}},
              {"oom_kills", st->oom_kills},
              {"oom_events", st->oom_events}};
  if (st->memory_limit) mem["usage"]["limit"] = *st->memory_limit;
  json pids = {{"current", st->pids_current}};
  if (st->pids_limit) pids["limit"] = *st->pids_limit;
  json out = {{"type", "stats"},
              {"id", id},
              {"data", {{"cpu", {{"usage", {{"total", st->cpu_usage_ns}}}}}, {"memory", mem}, {"pids", pids}}}};
  std::cout << out.dump() << std::endl;
  return 0;
}

int cmd_features(const Globals&) {
  json f = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.0.2"},
      {"hooks", {"prestart", "createRuntime", "poststart", "poststop"}},
      {"mountOptions",
       {"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "bind", "rbind", "private", "rprivate",
        "shared", "rshared", "slave", "rslave", "unbindable", "runbindable", "relatime", "norelatime",
        "strictatime", "noatime", "nodiratime", "sync", "async"}},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions",
           {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
            "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
          {"operators",
           {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
            "SCMP_CMP_NE"}},
          {"archs", {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"}}}},
        // Supported by this build; whether the host has them is checked at create.
        {"apparmor", {{"enabled", true}}},
        {"selinux", {{"enabled", true}}}}},
  };
  std::cout << f.dump(2) << std::endl;
  return 0;
}

}  // namespace stack::cli
