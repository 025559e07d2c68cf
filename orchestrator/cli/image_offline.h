// `stack --image-root DIR image ...`: the image verbs on a store directory
// directly, with no daemon. For preparing a store before any stackd runs
// (scripts/make-demo-images.sh, the test fixtures, bench/); everything else
// goes through the daemon (image_commands.h), so that what a verb changes
// is the store of the daemon the CLI talks to.
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

}  // namespace stack::cli::offline
