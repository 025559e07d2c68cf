#include "runtime/container/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "base/fd.h"
#include "base/io.h"

namespace stack::rt {

static Result<> run_hook(const Hook& h, const std::string& state, const char* stage) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return fail_errno("pipe");
  UniqueFd rd(in[0]), wr(in[1]);
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : h.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork hook");
  if (pid == 0) {
    ::dup2(rd.get(), 0);
    ::execve(h.path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  rd.reset();
  // A hook need not read its state: one that exits first gets EPIPE here,
  // never a SIGPIPE that would kill the runtime mid-lifecycle.
  (void)io::write_to_pipe(wr.get(), state, "hook stdin");
  wr.reset();
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  int timeout_ms = h.timeout ? *h.timeout * 1000 : -1;
  struct pollfd pfd{pidfd.get(), POLLIN, 0};
  if (pidfd && ::poll(&pfd, 1, timeout_ms) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return fail(std::string(stage) + " hook " + h.path + " timed out", ETIMEDOUT);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return fail(std::string(stage) + " hook " + h.path + " failed with status " +
                    std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)),
                EIO);
  return {};
}

Result<> run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, const char* stage) {
  for (auto& h : hooks) {
    auto r = run_hook(h, state_json, stage);
    if (!r) return r;
  }
  return {};
}

std::vector<std::string> run_hooks_warning(const std::vector<Hook>& hooks, const std::string& state_json,
                                           const char* stage) {
  std::vector<std::string> warnings;
  for (auto& h : hooks)
    if (auto r = run_hook(h, state_json, stage); !r) warnings.push_back(r.error().message());
  return warnings;
}

}  // namespace stack::rt
