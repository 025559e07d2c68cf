// Docker's "copy up" of a new volume: before a container first uses an
// empty volume, what the image holds at the mount's path is copied into it
// (Compose's `nocopy` turns this off). Owners, modes, times and symlinks (as
// links) are kept; device nodes, fifos and sockets are skipped; hard links
// become separate copies.
//
// The image is untrusted: the path is resolved inside the root
// (openat2 RESOLVE_IN_ROOT), and the walk goes from directory fd to
// directory fd without ever following a symlink, so nothing outside the
// rootfs is read and nothing outside `dest` is written.
#pragma once

#include <string>

#include "base/error.h"

namespace stack::img {

// True when `dir` has no entries or does not exist.
stack::Result<bool> dir_is_empty(const std::string& dir);

// Copies the tree at `path` inside `rootfs` into the existing directory
// `dest`, which takes the source directory's owner and mode. A missing path
// or one that is not a directory copies nothing (not an error).
stack::Result<void> copy_up(const std::string& rootfs, const std::string& path, const std::string& dest);

}  // namespace stack::img
