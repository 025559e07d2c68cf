// A server process a test starts (registry, etcd): forked with its output
// appended to a log file, killed with the thread that started it
// (PR_SET_PDEATHSIG) so a test killed on a timeout leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace stack::test {

// The child's pid, or -1 when fork failed.
pid_t spawn_test_daemon(const std::vector<std::string>& argv, const std::string& log);
// Whether it exited already (reaped; pid set to -1).
bool test_daemon_exited(pid_t& pid);
// SIGKILL and reap; pid set to -1. Safe on -1.
void kill_test_daemon(pid_t& pid);

}  // namespace stack::test
