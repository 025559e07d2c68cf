#include "orchestrator/cli/stack_verbs.h"

#include <unistd.h>

#include <algorithm>

#include "orchestrator/cli/detach_keys.h"

namespace stack::cli {

std::vector<std::string> split_exec_command(std::vector<std::string>& args) {
  // Options (of the app and of exec/run) that take a value as the next word.
  static const std::vector<std::string> with_value = {
      "-f", "--file", "-p", "--project-name", "--profile", "--env-file", "--host", "--root", "--image-root",
      "--registry-mirror", "--insecure-registry", "-e", "--env", "-u", "--user", "-w", "--workdir", "--index"};
  size_t i = 0;
  while (i < args.size() && args[i] != "exec" && args[i] != "run") {
    bool takes = std::find(with_value.begin(), with_value.end(), args[i]) != with_value.end();
    i += takes ? 2 : 1;
  }
  if (i >= args.size()) return {};
  for (++i; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      args.erase(args.begin() + static_cast<long>(i));
      break;
    }
    if (a.empty() || a[0] != '-') break;  // SERVICE
    if (std::find(with_value.begin(), with_value.end(), a) != with_value.end()) ++i;
  }
  if (i + 1 >= args.size()) return {};
  std::vector<std::string> cmd(args.begin() + static_cast<long>(i) + 1, args.end());
  if (!cmd.empty() && cmd.front() == "--") cmd.erase(cmd.begin());  // SERVICE -- CMD
  args.resize(i + 1);
  return cmd;
}

namespace {

// exec/run/attach: the stream's exit code is the CLI's. (A function, not a
// local lambda: the verbs' callbacks run after add_stack_verbs returned.)
std::function<Result<>()> stream_action(StackVerbs& v, StreamVerb verb) {
  return [&v, verb]() -> Result<> {
    auto r = cmd_exec(v.stack, v.exec, verb);
    if (!r) return tl::unexpected(r.error());
    v.exit_code = *r;
    return {};
  };
}

}  // namespace

void add_stack_verbs(CLI::App& app, StackVerbs& v, const GlobalOptions& g, std::function<Result<>()>& action) {
  app.add_option("-f,--file", v.stack.files, "stack file (repeatable; default: compose.yaml etc. in the current dir)")
      ->allow_extra_args(false);
  app.add_option("-p,--project-name", v.stack.project_name, "stack name");
  app.add_option("--profile", v.stack.profiles, "enable a profile (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--env-file", v.stack.env_files, "variables for interpolation (default: .env)")
      ->allow_extra_args(false);
  app.add_option("--host", v.stack.client.host, "stackd socket: unix:///path (or STACK_HOST)");
  app.add_option("--root", v.stack.client.root, "state dir of a stackd this CLI starts")->capture_default_str();

  auto* up = app.add_subcommand("up", "create and start the stack");
  up->add_option("file", v.stack.files, "stack file (same as -f)");
  up->add_flag("-d,--detach", v.up.detach, "return once started instead of following the logs");
  up->add_flag("--wait", v.up.wait, "wait until services are running and healthy (implies -d)");
  up->add_option("--wait-timeout", v.up.wait_timeout_s, "seconds --wait may take");
  up->add_option("--pull", v.up.pull, "missing|always")->check(CLI::IsMember({"missing", "always"}));
  up->add_option("--service", v.up.services, "only these services (and their dependencies)")
      ->allow_extra_args(false);
  up->callback([&] {
    if (v.up.wait) v.up.detach = true;
    action = [&] { return cmd_up(v.stack, v.up); };
  });

  auto* down = app.add_subcommand("down", "stop and remove the stack's containers and networks");
  down->add_option("file", v.stack.files, "stack file (same as -f), as for up");
  down->add_flag("-v,--volumes", v.flag_a, "also remove the stack's named and anonymous volumes");
  down->callback([&] { action = [&] { return cmd_down(v.stack, v.flag_a); }; });

  auto* ps = app.add_subcommand("ps", "list the stack's containers");
  ps->add_option("--format", v.format, "table|json")->check(CLI::IsMember({"table", "json"}));
  ps->add_flag("-a,--all", v.flag_a, "also stopped containers");
  ps->add_flag("--all-stacks", v.flag_b, "every stack stackd runs");
  ps->callback([&] { action = [&] { return cmd_ps(v.stack, v.format, v.flag_a, v.flag_b); }; });

  auto* ls = app.add_subcommand("ls", "list stacks");
  ls->add_flag("-q,--quiet", v.flag_a, "names only");
  ls->callback([&] { action = [&] { return cmd_ls(v.stack, v.flag_a); }; });

  auto* logs = app.add_subcommand("logs", "show the containers' output");
  logs->add_flag("-f,--follow", v.logs.follow, "keep following");
  logs->add_option("-n,--tail", v.logs.tail, "lines from the end of each container's log (-1 = all)");
  logs->add_flag("-t,--timestamps", v.logs.timestamps, "prefix each line with its time");
  logs->add_option("--since", v.logs.since, "lines from then on: 10m, 1700000000 or 2026-12-07T02:00:00Z");
  logs->add_option("services", v.logs.services, "services (default: all)");
  logs->callback([&] { action = [&] { return cmd_logs(v.stack, v.logs); }; });

  // exec/run: everything after SERVICE is the command, flags included; it is
  // cut off before parsing (split_exec_command) and lands in v.exec.cmd.
  auto exec_common = [&](CLI::App* c) {
    c->add_flag("-i,--interactive", v.exec.interactive, "keep stdin open (exec: always)");
    c->add_flag("-t,--tty", v.exec.tty, "allocate a pseudo-terminal");
    c->add_option("-e,--env", v.exec.env, "KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
    c->add_option("-u,--user", v.exec.user, "user[:group] to run as");
    c->add_option("-w,--workdir", v.exec.workdir, "working directory");
    c->add_option("service", v.exec.service, "service")->required();
  };
  auto* exec = app.add_subcommand("exec", "run a command in a running container");
  exec_common(exec);
  exec->add_flag("-T,--no-TTY", v.no_tty, "no pseudo-terminal even when stdin is one");
  exec->add_option("--index", v.exec.index, "replica slot (default 1)");
  exec->callback([&] {
    v.exec.interactive = true;  // as Compose: exec keeps stdin open
    // As Compose: a terminal gets a pty unless -T.
    if (!v.no_tty && ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO)) v.exec.tty = true;
    if (v.no_tty) v.exec.tty = false;
    action = stream_action(v, StreamVerb::Exec);
  });
  auto* run = app.add_subcommand("run", "run a one-off container of a service");
  exec_common(run);
  run->add_flag("--rm", v.exec.rm, "remove the container when it exits");
  run->add_flag("-T,--no-TTY", v.no_tty, "no pseudo-terminal even when stdin is one");
  run->callback([&] {
    // As Compose: a terminal gets a pty unless -T, and with a pty stdin is
    // kept (Compose's run is interactive by default).
    if (!v.no_tty && ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO)) v.exec.tty = true;
    if (v.no_tty) v.exec.tty = false;
    if (v.exec.tty) v.exec.interactive = true;
    action = stream_action(v, StreamVerb::Run);
  });

  // attach: the running replica's main process. A tty (raw mode, resizes)
  // when the service has `tty: true` in the stack file and stdin is a
  // terminal; input goes to it unless --no-stdin (the shim drops it when the
  // service has no stdin_open, as Docker does).
  auto* attach = app.add_subcommand("attach", "attach to a service's running main process");
  attach->add_option("service", v.exec.service, "service")->required();
  attach->add_option("--index", v.exec.index, "replica slot (default 1)");
  attach->add_flag("--no-stdin", v.no_stdin, "do not send stdin");
  v.exec.detach_keys = kDefaultDetachKeys;
  attach->add_option("--detach-keys", v.exec.detach_keys, "keys that detach (default ctrl-p,ctrl-q)");
  attach->callback([&] {
    v.exec.tty = service_tty(v.stack, v.exec.service) && ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
    v.exec.interactive = !v.no_stdin;
    action = stream_action(v, StreamVerb::Attach);
  });

  auto* scale = app.add_subcommand("scale", "set the number of replicas of services");
  scale->add_option("assignments", v.services, "SERVICE=N ...")->required();
  scale->callback([&] { action = [&] { return cmd_scale(v.stack, v.services); }; });

  auto* plan = app.add_subcommand("plan", "what up would do, without doing it (exit 2 when it would change something)");
  plan->add_option("--format", v.format, "text|json")->check(CLI::IsMember({"text", "json"}));
  plan->callback([&] {
    action = [&]() -> Result<> {
      auto r = cmd_plan(v.stack, v.format);
      if (!r) return tl::unexpected(r.error());
      v.exit_code = *r;
      return {};
    };
  });

  auto* rollback = app.add_subcommand("rollback", "return a service to its definition before the last change");
  rollback->add_option("service", v.exec.service, "service")->required();
  rollback->callback([&] { action = [&] { return cmd_rollback(v.stack, v.exec.service); }; });

  for (const char* verb : {"start", "stop", "restart"}) {
    auto* c = app.add_subcommand(verb, std::string(verb) + " services (default: all)");
    c->add_option("services", v.services, "services");
    c->callback([&, verb] { action = [&, verb] { return cmd_lifecycle(v.stack, verb, v.services); }; });
  }

  auto* config = app.add_subcommand("config", "print the resolved stack file (no daemon needed)");
  config->add_option("--format", v.format, "yaml|json")->check(CLI::IsMember({"yaml", "json"}));
  config->add_flag("--services", v.flag_a, "print only the service names");
  config->callback([&] { action = [&] { return cmd_config(v.stack, v.format, v.flag_a); }; });

  auto* top = app.add_subcommand("top", "the processes of each container");
  top->callback([&] { action = [&] { return cmd_top(v.stack); }; });

  auto* stats = app.add_subcommand("stats", "CPU, memory, pids and network use per container");
  stats->add_flag("--no-stream", v.flag_a, "print once");
  stats->callback([&] { action = [&] { return cmd_stats(v.stack, v.flag_a); }; });

  auto* autoscale = app.add_subcommand("autoscale", "each x-autoscale service: replicas, use against its targets, last change");
  autoscale->add_option("--format", v.format, "table|json")->check(CLI::IsMember({"table", "json"}));
  autoscale->callback([&] { action = [&] { return cmd_autoscale(v.stack, v.format); }; });

  auto* events = app.add_subcommand("events", "follow the stack's events");
  events->add_flag("--json", v.flag_a, "one JSON object per line");
  events->add_flag("--all-stacks", v.flag_b, "events of every stack");
  events->add_option("--since", v.format, "first the kept events from then on: 10m, 1700000000 or 2026-12-07T02:00:00Z");
  events->callback([&] { action = [&] { return cmd_events(v.stack, v.flag_a, v.flag_b, v.format); }; });

  auto* inspect = app.add_subcommand("inspect", "the stack (or the named replicas) as JSON");
  inspect->add_option("names", v.services, "replica names (shop-web-1, web-1) or container ids");
  inspect->callback([&] { action = [&] { return cmd_inspect(v.stack, v.services); }; });

  auto* version = app.add_subcommand("version", "versions of the CLI and of stackd");
  version->callback([&] { action = [&] { return cmd_version(v.stack); }; });
  (void)g;
}

}  // namespace stack::cli
