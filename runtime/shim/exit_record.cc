#include "runtime/shim/exit_record.h"

#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "base/io.h"
#include "runtime/container/state.h"

namespace stack::shim {

ExitRecord ExitRecord::from_wait_status(int status) {
  ExitRecord r;
  if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
    r.exit_code = 128 + r.signal;
  } else {
    r.exit_code = WEXITSTATUS(status);
  }
  return r;
}

std::string ExitRecord::to_json() const {
  nlohmann::json j = {{"id", id},
                      {"pid", pid},
                      {"exit_code", exit_code},
                      {"signal", signal},
                      {"oom_killed", oom_killed},
                      {"started_at", started_at},
                      {"finished_at", finished_at}};
  return j.dump() + "\n";
}

stack::Result<> write_exit_record(const std::string& path, const ExitRecord& record) {
  return io::write_file_atomic(path, record.to_json());
}

}  // namespace stack::shim
