// Command line of stack-shim, parsed by hand: the shim lives as long as its
// container, so it avoids CLI11's code and static state (RSS matters when a
// node runs hundreds of shims).
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"

namespace stack::shim {

struct ShimOptions {
  std::string root;       // runtime state root (absolute)
  std::string id;
  std::string bundle;     // absolute
  std::string log_file;   // default <root>/<id>/container.log
  uint64_t log_max_size = 10ull << 20;
  unsigned log_max_files = 3;  // container.log plus .1 .. .(N-1)
  bool log_compress = false;   // --log-compress: rotated files as .N.gz
  bool log = true;             // --no-log: output is read and dropped
  std::string exit_file;  // default <root>/<id>/exit.json
  bool detach = false;
  bool remove = false;    // --rm: delete the container once it exited
  bool control_socket = true;  // <root>/<id>/shim.sock and attach.sock; --no-socket disables
  bool open_stdin = false;     // --stdin: stdin_open, a pipe the shim keeps open (attach.h)
  bool stdin_once = false;     // --stdin-once: the first attach's EOF closes it (run -i)
  bool hold_output = false;    // --hold-output: kept for the first attach (run -it)
  bool help = false;

  std::string state_dir() const { return root + "/" + id; }
  std::string pid_file() const { return state_dir() + "/shim.pid"; }
  std::string socket_path() const { return state_dir() + "/shim.sock"; }
  std::string attach_path() const { return state_dir() + "/attach.sock"; }
};

// Parses argv (argv[0] skipped). Relative paths are made absolute against
// the current directory, because a detached shim changes to "/".
stack::Result<ShimOptions> parse_shim_args(int argc, char** argv);
const char* shim_usage();

}  // namespace stack::shim
