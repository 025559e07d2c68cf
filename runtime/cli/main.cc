// stack-runtime: a runc-compatible OCI runtime CLI, thin verbs over the
// runtime core (crun's shape). Global flags and verbs follow runc so that
// podman/conmon can drive it: --root, --log, --log-format, --debug,
// --systemd-cgroup (accepted; cgroupfs is always used).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "runtime/cli/commands.h"
#include "runtime/cli/log.h"
#include "base/fd.h"
#include "runtime/kernel/protected_exe.h"

int main(int argc, char** argv) {
  using namespace stack::cli;
  CLI::App app{"stack-runtime: OCI container runtime of the stack project", "stack-runtime"};
  app.require_subcommand(1);
  Globals g;
  app.add_option("--root", g.root, "state directory")->capture_default_str();
  app.add_option("--log", g.log, "log file");
  app.add_option("--log-format", g.log_format, "log format: text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.debug, "debug logging");
  bool ignored = false;
  std::string ignored_s;
  app.add_flag("--systemd-cgroup", ignored, "accepted for runc compatibility; cgroupfs is used");
  app.add_option("--rootless", ignored_s, "accepted for runc compatibility");
  app.add_option("--criu", ignored_s, "accepted for runc compatibility; checkpoint is not supported");
  app.set_version_flag("-v,--version", "stack-runtime version 0.1.0\nspec: 1.0.2");

  // spec
  SpecArgs spec;
  auto* c_spec = app.add_subcommand("spec", "write a Docker-equivalent default config.json");
  c_spec->add_option("-b,--bundle", spec.bundle, "bundle directory");
  c_spec->add_flag("--rootless", spec.rootless, "spec for a rootless container");
  c_spec->add_flag("--terminal", spec.terminal, "set process.terminal");

  // create / run share their flags
  CreateArgs create;
  auto add_create_flags = [&](CLI::App* c) {
    c->add_option("id", create.id, "container id")->required();
    c->add_option("-b,--bundle", create.bundle, "bundle directory");
    c->add_option("--pid-file", create.pid_file, "write the container's pid here");
    c->add_option("--console-socket", create.console_socket, "Unix socket that receives the pty master");
    c->add_option("--preserve-fds", create.preserve_fds, "pass this many extra fds (3..) to the container");
    c->add_flag("--no-pivot", create.no_pivot, "use MS_MOVE+chroot instead of pivot_root");
    c->add_flag("--no-new-keyring", create.ignored, "accepted for runc compatibility");
  };
  auto* c_create = app.add_subcommand("create", "create a container that waits for start");
  add_create_flags(c_create);
  auto* c_run = app.add_subcommand("run", "create and start a container; wait for it unless --detach");
  add_create_flags(c_run);
  c_run->add_flag("-d,--detach", create.detach, "do not wait for the container");
  c_run->add_flag("--keep", create.keep, "do not delete the container after it exits");

  std::string id;
  auto* c_start = app.add_subcommand("start", "start a created container");
  c_start->add_option("id", id, "container id")->required();

  auto* c_state = app.add_subcommand("state", "print the OCI state of a container");
  c_state->add_option("id", id, "container id")->required();

  KillArgs kill;
  auto* c_kill = app.add_subcommand("kill", "send a signal to a container");
  c_kill->add_option("id", kill.id, "container id")->required();
  c_kill->add_option("signal", kill.signal, "signal (default SIGTERM)");
  c_kill->add_flag("-a,--all", kill.all, "signal every process of the container");

  DeleteArgs del;
  auto* c_delete = app.add_subcommand("delete", "delete a container");
  c_delete->add_option("id", del.id, "container id")->required();
  c_delete->add_flag("-f,--force", del.force, "kill it first if it runs");

  ExecArgs exec;
  auto* c_exec = app.add_subcommand("exec", "run a process in a running container");
  c_exec->add_option("id", exec.id, "container id")->required();
  c_exec->add_option("command", exec.args, "command and arguments");
  c_exec->add_option("-p,--process", exec.process_file, "process.json with the whole process spec");
  c_exec->add_flag("-t,--tty", exec.tty, "allocate a pseudo-terminal");
  c_exec->add_flag("-d,--detach", exec.detach, "do not wait for the process");
  c_exec->add_option("--pid-file", exec.pid_file, "write the process's pid here");
  c_exec->add_option("--console-socket", exec.console_socket, "Unix socket that receives the pty master");
  c_exec->add_option("--cwd", exec.cwd, "working directory");
  c_exec->add_option("-e,--env", exec.env, "extra environment KEY=VALUE");
  c_exec->add_option("-u,--user", exec.user, "uid[:gid]");
  c_exec->add_option("-c,--cap", exec.caps, "add a capability");
  c_exec->add_flag("--no-new-privs", exec.no_new_privs, "set no_new_privs");
  c_exec->add_option("--preserve-fds", exec.preserve_fds, "pass this many extra fds (3..)");
  c_exec->allow_extras(false);
  c_exec->positionals_at_end(true);

  ListArgs list;
  auto* c_list = app.add_subcommand("list", "list containers");
  c_list->alias("ls");
  c_list->add_option("-f,--format", list.format, "table or json")->check(CLI::IsMember({"table", "json"}));
  c_list->add_flag("-q,--quiet", list.quiet, "ids only");

  PsArgs ps;
  auto* c_ps = app.add_subcommand("ps", "list the processes of a container");
  c_ps->add_option("id", ps.id, "container id")->required();
  c_ps->add_option("-f,--format", ps.format, "table or json")->check(CLI::IsMember({"table", "json"}));

  auto* c_pause = app.add_subcommand("pause", "freeze every process of a container");
  c_pause->add_option("id", id, "container id")->required();
  auto* c_resume = app.add_subcommand("resume", "thaw a paused container");
  c_resume->add_option("id", id, "container id")->required();

  bool stats_once = false;
  auto* c_events = app.add_subcommand("events", "print container resource statistics (JSON)");
  c_events->add_option("id", id, "container id")->required();
  c_events->add_flag("--stats", stats_once, "print one statistics record and exit");

  auto* c_features = app.add_subcommand("features", "print what this runtime supports (JSON)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string msg = e.what();
    std::fprintf(stderr, "stack-runtime: %s\n", msg.c_str());
    return 2;
  }
  // Verbs that put a process into a container run through a protected path to
  // this binary, never the host file (CVE-2019-5736, see protected_exe.h).
  if (*c_create || *c_run || *c_exec) {
    if (auto exe = stack::rt::reexec_protected(argv); !exe) {
      std::fprintf(stderr, "stack-runtime: %s\n", exe.error().message().c_str());
      return 1;
    }
  }
  // Only stdio and the fds the caller asked to pass on survive (runc's
  // --preserve-fds): anything else a caller leaked could reach a container.
  const int preserve = *c_exec ? exec.preserve_fds : (*c_create || *c_run) ? create.preserve_fds : 0;
  stack::close_fds_from(3 + std::max(preserve, 0));
  log_setup(g.log, g.log_format, g.debug);

  if (*c_spec) return cmd_spec(g, spec);
  if (*c_create) return cmd_create(g, create);
  if (*c_run) return cmd_run(g, create);
  if (*c_start) return cmd_start(g, id);
  if (*c_state) return cmd_state(g, id);
  if (*c_kill) return cmd_kill(g, kill);
  if (*c_delete) return cmd_delete(g, del);
  if (*c_exec) return cmd_exec(g, exec);
  if (*c_list) return cmd_list(g, list);
  if (*c_ps) return cmd_ps(g, ps);
  if (*c_pause) return cmd_pause(g, id, true);
  if (*c_resume) return cmd_pause(g, id, false);
  if (*c_events) return cmd_events(g, id);
  if (*c_features) return cmd_features(g);
  return 2;
}
