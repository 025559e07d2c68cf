// Registers the stack verbs (up, down, ps, logs, exec, ...) on the CLI11 app.
// Options that select a stack (-f, -p, --profile, --env-file) and the daemon
// (--host) are the app's, so they go before or after the verb, as in Compose.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "orchestrator/cli/exec_client.h"
#include "orchestrator/cli/stack_commands.h"

namespace stack::cli {

struct StackVerbs {
  StackOptions stack;
  UpFlags up;
  LogFlags logs;
  ExecFlags exec;
  std::vector<std::string> services;
  std::string format;
  bool flag_a = false, flag_b = false;
  bool no_tty = false;  // exec -T, run -T
  bool no_stdin = false;  // attach --no-stdin
  int exit_code = 0;  // exec/run: the process's status
};

// `stack [OPTS] exec|run [OPTS] SERVICE CMD...`: removes CMD... from `args`
// (argv without the program name) and returns it, so that CMD's own flags
// never reach the option parser. No exec/run: returns {} and leaves `args`.
std::vector<std::string> split_exec_command(std::vector<std::string>& args);

// `action` is set by the chosen verb's callback; `g` is the image options
// (for `pull`).
void add_stack_verbs(CLI::App& app, StackVerbs& v, const GlobalOptions& g, std::function<Result<>()>& action);

}  // namespace stack::cli
