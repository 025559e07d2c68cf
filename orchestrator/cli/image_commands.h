// The `stack` CLI's image verbs: thin wrappers over img::ImageService (and the
// loader, importer and registry client) that print what Docker prints. Each
// returns the error to report; main() turns it into "stack: ..." and exit 1.
#pragma once

#include <string>
#include <vector>

#include "runtime/kernel/error.h"

namespace stack::cli {

using stack::rt::Result;

struct GlobalOptions {
  std::string image_root;                     // --image-root
  std::vector<std::string> registry_mirrors;  // --registry-mirror docker.io=URL
  std::vector<std::string> insecure_registries;
};

Result<> cmd_image_ls(const GlobalOptions& g, bool quiet);
Result<> cmd_image_inspect(const GlobalOptions& g, const std::vector<std::string>& names);
Result<> cmd_image_rm(const GlobalOptions& g, const std::vector<std::string>& names);
Result<> cmd_image_prune(const GlobalOptions& g);
// `stack system df`: images, blob and snapshot disk usage of the store.
Result<> cmd_system_df(const GlobalOptions& g);
Result<> cmd_image_load(const GlobalOptions& g, const std::string& path, bool quiet);
Result<> cmd_image_import(const GlobalOptions& g, const std::string& tar, const std::string& name,
                          const std::vector<std::string>& changes);
Result<> cmd_image_pull(const GlobalOptions& g, const std::string& name, bool quiet);
Result<> cmd_image_push(const GlobalOptions& g, const std::string& local, const std::string& remote,
                        bool quiet);
Result<> cmd_login(const GlobalOptions& g, const std::string& host, std::string user,
                   bool password_stdin);

}  // namespace stack::cli
