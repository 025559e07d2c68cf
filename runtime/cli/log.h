// The runtime's own log: runc's --log/--log-format contract, which conmon and
// podman read to show the runtime's error. One line per message, JSON
// ({"level","msg","time"}) or text; errors also go to stderr.
#pragma once

#include <string>

namespace stack::cli {

void log_setup(const std::string& path, const std::string& format, bool debug);
void log_warn(const std::string& msg);
void log_debug(const std::string& msg);
// Logs and prints "stack-runtime: <msg>" to stderr.
void log_error(const std::string& msg);

}  // namespace stack::cli
