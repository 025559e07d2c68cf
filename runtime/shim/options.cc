#include "runtime/shim/options.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "runtime/container/state.h"

namespace stack::shim {
namespace {

std::string absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return path;
  return std::string(cwd) + "/" + path;
}

stack::Result<uint64_t> parse_u64(const std::string& flag, const std::string& value) {
  if (value.empty() || value[0] < '0' || value[0] > '9') return stack::fail(flag + ": expected a number, got \"" + value + "\"", EINVAL);
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(value.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return stack::fail(flag + ": expected a number, got \"" + value + "\"", EINVAL);
  return static_cast<uint64_t>(v);
}

}  // namespace

const char* shim_usage() {
  return "usage: stack-shim --root DIR --id ID --bundle DIR [options]\n"
         "  --log-file PATH       container output, json-file format (default <root>/<id>/container.log)\n"
         "  --log-max-size BYTES  rotate the log at this size (default 10485760)\n"
         "  --log-max-files N     log files kept, current one included (default 3)\n"
         "  --log-compress        gzip rotated log files (<log-file>.N.gz)\n"
         "  --no-log              read the container's output and drop it (logging driver none)\n"
         "  --exit-file PATH      exit record (default <root>/<id>/exit.json)\n"
         "  --detach              return once the container started; the shim runs on\n"
         "  --rm                  delete the container after it exited (needs --exit-file\n"
         "                        outside <root>/<id>; the default log goes with it)\n"
         "  --no-socket           no control socket <root>/<id>/shim.sock, no attach.sock\n"
         "  --stdin               keep the container's stdin open (a pipe; attach writes to it)\n"
         "  --stdin-once          the first attached client's EOF closes that stdin\n"
         "  --hold-output         keep output until the first attach (and wait for it at exit)\n";
}

stack::Result<ShimOptions> parse_shim_args(int argc, char** argv) {
  ShimOptions o;
  o.root = rt::kDefaultRuntimeRoot;
  std::string max_size, max_files;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
      has_value = true;
    }
    auto take = [&](std::string& out) -> stack::Result<> {
      if (!has_value) {
        if (i + 1 >= argc) return stack::fail(arg + ": missing value", EINVAL);
        value = argv[++i];
      }
      out = value;
      return {};
    };
    auto flag = [&](bool& out) -> stack::Result<> {
      if (has_value) return stack::fail(arg + ": takes no value", EINVAL);
      out = true;
      return {};
    };
    bool no_socket = false;
    if (arg == "--root") STACK_TRY(take(o.root));
    else if (arg == "--id") STACK_TRY(take(o.id));
    else if (arg == "--bundle" || arg == "-b") STACK_TRY(take(o.bundle));
    else if (arg == "--log-file") STACK_TRY(take(o.log_file));
    else if (arg == "--log-max-size") STACK_TRY(take(max_size));
    else if (arg == "--log-max-files") STACK_TRY(take(max_files));
    else if (arg == "--log-compress") STACK_TRY(flag(o.log_compress));
    else if (arg == "--exit-file") STACK_TRY(take(o.exit_file));
    else if (arg == "--detach" || arg == "-d") STACK_TRY(flag(o.detach));
    else if (arg == "--rm") STACK_TRY(flag(o.remove));
    else if (arg == "--no-socket") STACK_TRY(flag(no_socket));
    else if (arg == "--stdin") STACK_TRY(flag(o.open_stdin));
    else if (arg == "--stdin-once") STACK_TRY(flag(o.stdin_once));
    else if (arg == "--hold-output") STACK_TRY(flag(o.hold_output));
    else if (arg == "--no-log") {
      bool no_log = false;
      STACK_TRY(flag(no_log));
      o.log = false;
    }
    else if (arg == "--help" || arg == "-h") STACK_TRY(flag(o.help));
    else return stack::fail("unknown argument \"" + arg + "\"", EINVAL);
    if (no_socket) o.control_socket = false;
  }
  if (o.help) return o;
  if (o.id.empty()) return stack::fail("--id is required", EINVAL);
  STACK_TRY(rt::validate_id(o.id));
  if (o.bundle.empty()) return stack::fail("--bundle is required", EINVAL);
  if (o.root.empty()) return stack::fail("--root must not be empty", EINVAL);
  if (!max_size.empty()) {
    auto v = parse_u64("--log-max-size", max_size);
    if (!v) return tl::unexpected(v.error());
    // Below one record's worth every record would rotate; 4 KiB is the floor.
    if (*v < 4096) return stack::fail("--log-max-size: at least 4096 bytes", EINVAL);
    o.log_max_size = *v;
  }
  if (!max_files.empty()) {
    auto v = parse_u64("--log-max-files", max_files);
    if (!v) return tl::unexpected(v.error());
    if (*v < 1 || *v > 100) return stack::fail("--log-max-files: between 1 and 100", EINVAL);
    o.log_max_files = static_cast<unsigned>(*v);
  }
  o.root = absolute(o.root);
  o.bundle = absolute(o.bundle);
  o.log_file = o.log_file.empty() ? o.state_dir() + "/container.log" : absolute(o.log_file);
  o.exit_file = o.exit_file.empty() ? o.state_dir() + "/exit.json" : absolute(o.exit_file);
  // --rm removes <root>/<id>: a record kept there would be deleted with it.
  if (o.remove && o.exit_file.rfind(o.state_dir() + "/", 0) == 0)
    return stack::fail("--rm deletes " + o.state_dir() + ": give an --exit-file outside it", EINVAL);
  return o;
}

}  // namespace stack::shim
