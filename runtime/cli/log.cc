#include "runtime/cli/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/container/state.h"

namespace stack::cli {
namespace {
std::string g_path;
bool g_json = false;
bool g_debug = false;

void write_line(const char* level, const std::string& msg) {
  if (g_path.empty()) return;
  std::string line;
  if (g_json) {
    line = nlohmann::json{{"level", level}, {"msg", msg}, {"time", stack::rt::now_rfc3339()}}.dump() + "\n";
  } else {
    line = stack::rt::now_rfc3339() + " " + level + " " + msg + "\n";
  }
  int fd = ::open(g_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}
}  // namespace

void log_setup(const std::string& path, const std::string& format, bool debug) {
  g_path = path;
  g_json = format == "json";
  g_debug = debug;
}

void log_warn(const std::string& msg) {
  write_line("warning", msg);
  if (g_path.empty()) (void)!::write(2, ("stack-runtime: warning: " + msg + "\n").c_str(), msg.size() + 25);
}

void log_debug(const std::string& msg) {
  if (g_debug) write_line("debug", msg);
}

void log_error(const std::string& msg) {
  write_line("error", msg);
  std::string line = "stack-runtime: " + msg + "\n";
  (void)!::write(2, line.data(), line.size());
}

}  // namespace stack::cli
