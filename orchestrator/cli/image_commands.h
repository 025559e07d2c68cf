// The `stack` CLI's image verbs. Each goes to the daemon the CLI talks to
// (--host / STACK_HOST, else the default socket, starting stackd as the
// stack verbs do): archives are streamed over the socket, pull and push
// progress streamed back, so what a verb changes is that daemon's store.
// `--image-root DIR` works on DIR directly instead (image_offline.h). Each
// returns the error to report; main() turns it into "stack: ..." and exit 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "orchestrator/cli/client.h"
#include "base/error.h"

namespace stack::cli {

using stack::Result;

struct GlobalOptions {
  std::string image_root;                     // --image-root: no daemon ("" = through stackd)
  std::vector<std::string> registry_mirrors;  // --registry-mirror docker.io=URL (with --image-root)
  std::vector<std::string> insecure_registries;
  const ClientOptions* client = nullptr;      // --host / --root (the stack verbs' options)
};

Result<> cmd_image_ls(const GlobalOptions& g, bool quiet);
Result<> cmd_image_inspect(const GlobalOptions& g, const std::vector<std::string>& names);
Result<> cmd_image_rm(const GlobalOptions& g, const std::vector<std::string>& names);
Result<> cmd_image_prune(const GlobalOptions& g);
// `stack system df`: images, blob and snapshot disk usage of the store.
Result<> cmd_system_df(const GlobalOptions& g);
// `path`: an archive, an OCI layout directory (sent as a tar of it), or "-"
// for standard input.
Result<> cmd_image_load(const GlobalOptions& g, const std::string& path, bool quiet);
Result<> cmd_image_import(const GlobalOptions& g, const std::string& tar, const std::string& name,
                          const std::vector<std::string>& changes);
Result<> cmd_image_pull(const GlobalOptions& g, const std::string& name, bool quiet);
Result<> cmd_image_push(const GlobalOptions& g, const std::string& local, const std::string& remote,
                        bool quiet);

// Printing shared with the offline verbs: `docker images` and `system df`.
struct ImageRow {
  std::string name, id, created;
  uint64_t size = 0;
};
void print_images(const std::vector<ImageRow>& rows, bool quiet);
void print_disk_usage(size_t images, size_t blob_count, uint64_t blobs, size_t snapshot_count, uint64_t snapshots);

}  // namespace stack::cli
