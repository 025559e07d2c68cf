// One function per stack-runtime verb. Each returns the process exit code and
// reports failures as one line (stderr and the --log file).
#pragma once

#include <string>
#include <vector>

#include "runtime/container/state.h"

namespace stack::cli {

struct Globals {
  std::string root = stack::rt::kDefaultRuntimeRoot;
  std::string log;
  std::string log_format = "text";
  bool debug = false;
};

struct SpecArgs {
  std::string bundle = ".";
  bool rootless = false;
  bool terminal = false;
};

struct CreateArgs {
  std::string id, bundle = ".", pid_file, console_socket;
  int preserve_fds = 0;
  bool no_pivot = false, ignored = false, detach = false, keep = false;
};

struct KillArgs {
  std::string id, signal = "SIGTERM";
  bool all = false;
};

struct DeleteArgs {
  std::string id;
  bool force = false;
};

struct ExecArgs {
  std::string id, process_file, pid_file, console_socket, cwd, user;
  std::vector<std::string> args, env, caps;
  bool tty = false, detach = false, no_new_privs = false;
  int preserve_fds = 0;
};

struct ListArgs {
  std::string format = "table";
  bool quiet = false;
};

struct PsArgs {
  std::string id, format = "table";
};

int cmd_spec(const Globals& g, const SpecArgs& a);
int cmd_create(const Globals& g, const CreateArgs& a);
int cmd_run(const Globals& g, const CreateArgs& a);
int cmd_start(const Globals& g, const std::string& id);
int cmd_state(const Globals& g, const std::string& id);
int cmd_kill(const Globals& g, const KillArgs& a);
int cmd_delete(const Globals& g, const DeleteArgs& a);
int cmd_exec(const Globals& g, const ExecArgs& a);
int cmd_list(const Globals& g, const ListArgs& a);
int cmd_ps(const Globals& g, const PsArgs& a);
int cmd_pause(const Globals& g, const std::string& id, bool pause);
int cmd_events(const Globals& g, const std::string& id);
int cmd_features(const Globals& g);

}  // namespace stack::cli
