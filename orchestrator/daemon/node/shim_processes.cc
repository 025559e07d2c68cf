#include "orchestrator/daemon/node/shim_processes.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/io.h"
#include "runtime/kernel/cgroup.h"

namespace fs = std::filesystem;

namespace stack::orch {
namespace {

// /proc/<pid>/cmdline with its NULs as spaces, so " --id X " can be found.
std::string command_line(const std::string& pid) {
  std::string cmd = io::read_text("/proc/" + pid + "/cmdline");
  for (auto& c : cmd)
    if (c == '\0') c = ' ';
  return cmd;
}

}  // namespace

stack::UniqueFd pidfd_of(pid_t pid) { return stack::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

pid_t live_shim(const std::string& runtime_root, const std::string& id) {
  pid_t pid = 0;
  std::ifstream f(runtime_root + "/" + id + "/shim.pid");
  if (!(f >> pid) || pid <= 0) return 0;
  std::string cmd = command_line(std::to_string(pid));
  if (cmd.find("stack-shim") == std::string::npos || cmd.find(" " + id + " ") == std::string::npos) return 0;
  return pid;
}

stack::Result<void> remove_unfinished(const rt::StateDir& runtime, const std::string& id, int wait_ms) {
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = command_line(name);
    if (cmd.find("stack-shim") == std::string::npos || cmd.find(" --root " + runtime.root() + " ") == std::string::npos ||
        cmd.find(" --id " + id + " ") == std::string::npos)
      continue;
    stack::UniqueFd fd = pidfd_of(std::stoi(name));
    if (!fd || ::syscall(SYS_pidfd_send_signal, fd.get(), SIGKILL, nullptr, 0) != 0) continue;  // gone meanwhile
    struct pollfd p = {fd.get(), POLLIN, 0};
    int n;
    do n = ::poll(&p, 1, wait_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0) return stack::fail("remove " + id + ": its starting stack-shim did not exit after SIGKILL", ETIMEDOUT);
  }
  auto cg = rt::make_cgroup_manager("", id);
  if (!cg) return tl::unexpected(cg.error().wrap("remove " + id));
  STACK_TRY_CTX((*cg)->destroy(), "remove cgroup of \"" + id + "\"");
  return runtime.remove(id);
}

}  // namespace stack::orch
