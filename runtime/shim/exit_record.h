// exit.json: how the container ended, written atomically (tmp + rename) once
// its init has been reaped and its output drained, so a reader that sees the
// file sees all of it and all of the log. Read by the daemon, possibly after
// it restarted; the shim itself is gone by then.
//   {"id":"web","pid":4242,"exit_code":137,"signal":9,"oom_killed":true,
//    "started_at":"...Z","finished_at":"...Z"}
// exit_code follows the shell (and Docker): 128+signal when killed.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.h"

namespace stack::shim {

struct ExitRecord {
  std::string id;
  pid_t pid = 0;
  int exit_code = 0;
  int signal = 0;  // 0 unless the init was killed by a signal
  bool oom_killed = false;
  std::string started_at, finished_at;

  // From a waitpid status.
  static ExitRecord from_wait_status(int status);
  std::string to_json() const;
};

stack::Result<> write_exit_record(const std::string& path, const ExitRecord& record);

}  // namespace stack::shim
