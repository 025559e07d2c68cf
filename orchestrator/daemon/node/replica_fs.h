// A replica's root filesystem: an overlay of the image's snapshot dirs
// (img::ImageService::ensure_unpacked, shared, read-only) plus the replica's
// own writable layer, all under the container dir: <dir>/upper, <dir>/work,
// mounted at <dir>/rootfs. Also the few host-side file operations the node
// does inside that rootfs, always resolved inside it (an image's symlinks
// cannot point them at the host).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "orchestrator/compose/file_objects.h"

namespace stack::orch {

// Makes upper/work/rootfs under `dir` (which may exist) and mounts the
// overlay; on failure nothing of it is left. Returns the rootfs path.
stack::Result<std::string> mount_replica_rootfs(const std::vector<std::string>& lowers_top_first,
                                             const std::string& dir);
// Unmounts <dir>/rootfs when mounted; absent is not an error.
stack::Result<void> unmount_replica_rootfs(const std::string& dir);
bool replica_rootfs_mounted(const std::string& dir);

// A replica's secrets and configs: a tmpfs of its own at <dir>/files (mode
// 0700: only root on the host reads it; never on disk, never in the
// container's layer), one file per entry named by its index, with the
// entry's owner and mode. The node bind-mounts each read-only at its target.
// Returns the directory ("" when there are none); on failure nothing is
// left mounted.
stack::Result<std::string> mount_replica_files(const std::string& dir, const std::vector<compose::ResolvedFile>& files);
// Unmounts <dir>/files when mounted; absent is not an error.
stack::Result<void> unmount_replica_files(const std::string& dir);

// Reads `path` inside `rootfs` ("" when it does not exist), at most 1 MiB.
stack::Result<std::string> read_in_rootfs(const std::string& rootfs, const std::string& path);
// mkdir -p `path` inside `rootfs` (the working dir Docker creates).
stack::Result<void> make_dir_in_rootfs(const std::string& rootfs, const std::string& path);
// Docker's copy-up for each (host dir, path in the image) whose dir is
// empty (BuiltSpec::volume_copies). A copy that fails half-way is undone:
// the dir is emptied again, so the next start copies afresh.
stack::Result<void> fill_empty_volumes(const std::string& rootfs,
                                       const std::vector<std::pair<std::string, std::string>>& copies);

}  // namespace stack::orch
