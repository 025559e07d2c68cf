// The container root filesystem: an overlay mount of an image's per-layer
// snapshot directories (read-only lowers, shared between containers) plus the
// container's own writable layer (upper + work), owned by the container.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace stack::img {

using stack::Result;

// Mounts overlay on `target` with the new mount API (fsopen/fsconfig/fsmount/
// move_mount). Lowers are passed one per "lowerdir+" call, so the number of
// layers is not bounded by the page-sized option string; kernels that reject
// "lowerdir+" (< 6.8) get the classic mount(2) option string instead.
// `lowers_top_first`: the image's top layer first, as overlayfs orders them.
Result<> mount_overlay(const std::vector<std::string>& lowers_top_first, const std::string& upper,
                       const std::string& work, const std::string& target);

// A read-only view of the lowers alone (no upper). A single lower becomes a
// read-only bind mount: overlayfs needs two lowers when there is no upper.
Result<> mount_overlay_readonly(const std::vector<std::string>& lowers_top_first,
                                const std::string& target);

// Lazy unmount (MNT_DETACH) so a container's stray references cannot wedge it.
Result<> unmount_overlay(const std::string& target);

// dir/upper (the container's changes), dir/work (overlayfs scratch, same
// filesystem as upper) and dir/rootfs (the mount point).
struct ContainerLayer {
  std::string dir;
  std::string upper;
  std::string work;
  std::string rootfs;
};

// Creates the layout (dir may already exist; its subdirectories must not).
Result<ContainerLayer> create_container_layer(const std::string& dir);
// Removes dir and everything in it. Refuses (EBUSY) while dir/rootfs is still
// a mount point, so a forgotten unmount cannot turn into deleting through the
// merged view.
Result<> remove_container_layer(const std::string& dir);

}  // namespace stack::img
