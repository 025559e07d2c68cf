// The `stack` CLI's stack verbs (Compose's shape): up, down, ps, logs, exec,
// run, scale, start/stop/restart, pull, config, top, stats, events, inspect,
// version. Each talks to stackd through ApiClient except `config` (local).
// Every per-stack verb picks its stack with -p NAME or -f FILE (the file is
// loaded for its project name), else the default file in the current dir.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/cli/client.h"
#include "orchestrator/cli/image_commands.h"
#include "orchestrator/compose/loader.h"

namespace stack::cli {

struct StackOptions {
  ClientOptions client;
  std::vector<std::string> files;     // -f (repeatable), or up's positional FILE
  std::string project_name;           // -p
  std::vector<std::string> profiles;  // --profile
  std::vector<std::string> env_files; // --env-file
};

// Loads the stack files with the CLI's environment and working directory;
// prints the loader's warnings on stderr.
// `file_data`: read the bytes of the secrets and configs the services use (up).
Result<compose::Project> load_stack(const StackOptions& o, bool file_data = true);
// The stack's name: -p alone is enough; otherwise the files are loaded.
Result<std::string> stack_name(const StackOptions& o);

struct UpFlags {
  bool detach = false;
  bool wait = false;
  int64_t wait_timeout_s = 0;
  std::string pull = "missing";
  std::vector<std::string> services;
};
Result<> cmd_up(const StackOptions& o, const UpFlags& f);
Result<> cmd_down(const StackOptions& o, bool volumes);
Result<> cmd_ps(const StackOptions& o, const std::string& format, bool all, bool every_stack);
Result<> cmd_lifecycle(const StackOptions& o, const std::string& verb, const std::vector<std::string>& services);
Result<> cmd_scale(const StackOptions& o, const std::vector<std::string>& assignments);
// What `up` of the file would do, done nothing of; 0 when nothing would
// change, 2 when something would (the CLI's exit code).
Result<int> cmd_plan(const StackOptions& o, const std::string& format);
// The service's previous definition back, replica by replica (rollback_config).
Result<> cmd_rollback(const StackOptions& o, const std::string& service);
Result<> cmd_stack_pull(const StackOptions& o, const GlobalOptions& g, bool quiet);
Result<> cmd_config(const StackOptions& o, const std::string& format, bool services_only);
struct LogFlags {
  bool follow = false;
  int64_t tail = -1;
  bool timestamps = false;
  std::string since;  // Docker's forms (compose/units.h parse_time); "" = all
  std::vector<std::string> services;
};
Result<> cmd_logs(const StackOptions& o, const LogFlags& f);
// Streams logs of `stack` to stdout until the stream ends or `cancel` fires
// (shared by `logs` and an attached `up`).
Result<> print_logs(const ApiClient& client, const std::string& stack, const LogFlags& f,
                    StreamCancel* cancel = nullptr);
Result<> cmd_top(const StackOptions& o);
Result<> cmd_stats(const StackOptions& o, bool no_stream);
// Each autoscaled service: its count and bounds, the last reading against
// its targets, its last change.
Result<> cmd_autoscale(const StackOptions& o, const std::string& format);
// `since`: Docker's forms (compose/units.h parse_time): the kept events from
// then on, before the live ones; "" = live events only.
Result<> cmd_events(const StackOptions& o, bool json, bool every_stack, const std::string& since);
Result<> cmd_inspect(const StackOptions& o, const std::vector<std::string>& names);
Result<> cmd_version(const StackOptions& o);
Result<> cmd_ls(const StackOptions& o, bool quiet);

}  // namespace stack::cli
