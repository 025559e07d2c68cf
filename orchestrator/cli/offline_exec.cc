// The `stack` binary's side of image_offline.h: the offline verbs and
// `login` need the image library, which `stack` does not link (it would
// load libarchive, libxml2, ICU and OpenSSL at every start of every verb).
// They are run by `stack-image`, the same CLI built with it: `stack`
// replaces itself with it (execv: same pid, stdin, stdout and exit status),
// passing the command line unchanged. `stack-image` is looked for next to
// `stack` first (a build tree, an install's bin/), then on PATH.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>
#include <vector>

#include "orchestrator/cli/image_offline.h"

namespace stack::cli::offline {
namespace {

std::vector<char*> command_line;

Result<> run_stack_image() {
  std::vector<char*> argv = command_line;
  if (argv.empty()) return fail("offline image verbs: no command line");
  argv.push_back(nullptr);
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir.erase(dir.rfind('/') + 1);
    std::string beside = dir + "stack-image";
    if (::access(beside.c_str(), X_OK) == 0) ::execv(beside.c_str(), argv.data());
  }
  ::execvp("stack-image", argv.data());
  return fail_errno("run stack-image (the CLI's image tool, installed beside stack)");
}

}  // namespace

void remember_command_line(int argc, char** argv) { command_line.assign(argv, argv + argc); }

Result<> cmd_image_ls(const GlobalOptions&, bool) { return run_stack_image(); }
Result<> cmd_image_inspect(const GlobalOptions&, const std::vector<std::string>&) { return run_stack_image(); }
Result<> cmd_image_rm(const GlobalOptions&, const std::vector<std::string>&) { return run_stack_image(); }
Result<> cmd_image_prune(const GlobalOptions&) { return run_stack_image(); }
Result<> cmd_system_df(const GlobalOptions&) { return run_stack_image(); }
Result<> cmd_image_load(const GlobalOptions&, const std::string&, bool) { return run_stack_image(); }
Result<> cmd_image_import(const GlobalOptions&, const std::string&, const std::string&,
                          const std::vector<std::string>&) {
  return run_stack_image();
}
Result<> cmd_image_pull(const GlobalOptions&, const std::string&, bool) { return run_stack_image(); }
Result<> cmd_image_push(const GlobalOptions&, const std::string&, const std::string&, bool) {
  return run_stack_image();
}
Result<> cmd_login(const GlobalOptions&, const std::string&, std::string, bool) { return run_stack_image(); }

}  // namespace stack::cli::offline
