// `stack --image-root DIR image ...`: the image verbs on a store directory
// directly, with no daemon. For preparing a store before any stackd runs
// (scripts/make-demo-images.sh, the test fixtures, bench/); everything else
// goes through the daemon (image_commands.h), so that what a verb changes
// is the store of the daemon the CLI talks to. `stack login` is here too: it
// talks to the registry itself.
//
// Two builds of the CLI implement this header. `stack-image`
// (image_offline.cc) runs the verbs, with the image library (libarchive,
// OpenSSL). `stack` (offline_exec.cc) replaces itself with `stack-image` and
// the same command line, so the verbs every user runs all day (ps, logs,
// exec, up) do not load libarchive, libxml2, ICU and OpenSSL at each start.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/cli/image_commands.h"

namespace stack::cli::offline {

Result<> cmd_image_ls(const GlobalOptions& g, bool quiet);
Result<> cmd_image_inspect(const GlobalOptions& g, const std::vector<std::string>& names);
Result<> cmd_image_rm(const GlobalOptions& g, const std::vector<std::string>& names);
Result<> cmd_image_prune(const GlobalOptions& g);
Result<> cmd_system_df(const GlobalOptions& g);
Result<> cmd_image_load(const GlobalOptions& g, const std::string& path, bool quiet);
Result<> cmd_image_import(const GlobalOptions& g, const std::string& tar, const std::string& name,
                          const std::vector<std::string>& changes);
Result<> cmd_image_pull(const GlobalOptions& g, const std::string& name, bool quiet);
Result<> cmd_image_push(const GlobalOptions& g, const std::string& local, const std::string& remote,
                        bool quiet);
// Checks the credentials with the registry and saves them in the caller's
// Docker config (as `docker login`); needs no daemon.
Result<> cmd_login(const GlobalOptions& g, const std::string& host, std::string user, bool password_stdin);

// main() hands its command line over first (offline_exec.cc runs
// `stack-image` with it).
void remember_command_line(int argc, char** argv);

}  // namespace stack::cli::offline
