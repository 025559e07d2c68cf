// Device nodes and the standard /dev symlinks inside a container's /dev.
// Planned in the parent: the six defaults every OCI runtime provides (null,
// zero, full, random, urandom, tty) merged with linux.devices (a spec entry
// for the same path replaces the default). Created in the child, before
// pivot_root, relative to an fd of the container root, so a node is never
// made or changed on the host: every path is resolved with
// open_in_root(RESOLVE_IN_ROOT) and the node is made with mknodat on the fd
// of its resolved parent.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/oci/spec.h"
#include "runtime/kernel/child_error.h"
#include "base/error.h"

namespace stack::rt {

struct PlannedDevice {
  std::string path;       // clean container path, "/dev/null"
  std::string dir;        // its parent, "/dev" (created when missing)
  std::string name;       // last component, "null"
  std::string host_path;  // bind source in a user namespace: the same path on the host
  mode_t mode = 0;        // S_IFCHR|0666 ...
  dev_t rdev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct DevicePlan {
  std::vector<PlannedDevice> nodes;
  // Without CAP_MKNOD over the device (a user namespace), char and block
  // devices are the host's nodes bind-mounted onto empty files.
  bool bind_from_host = false;
  bool ptmx_symlink = false;  // /dev/ptmx -> pts/ptmx (a devpts is mounted at /dev/pts)
};

// The default devices, in creation order.
const std::vector<Device>& default_devices();

// Validates linux.devices (type c/u/b/p, absolute-or-relative path, not
// "/dev" itself) and merges them over the defaults. Errors name the entry:
// "linux.devices[2]: type "x" is not one of c, u, b, p".
Result<DevicePlan> plan_devices(const std::vector<Device>& spec_devices, bool in_user_ns,
                                bool devpts_mounted);

// Child, before pivot_root: creates every node and the symlinks /dev/fd,
// /dev/stdin, /dev/stdout, /dev/stderr (and /dev/ptmx) under `root_fd`.
// Nodes that already exist are left as they are (a bind-mounted /dev keeps
// its own). Needs the host /proc for bind_from_host. Returns 0 or errno with
// *err filled. Async-signal-safe.
int create_devices(int root_fd, const DevicePlan& plan, ChildError* err) noexcept;

}  // namespace stack::rt
