// OCI mount option strings ("ro", "nosuid", "mode=755", "rbind", "rslave")
// turned into what mount(2) and mount_setattr(2) take. Parsed once in the
// parent, so the child after clone only passes precomputed numbers and a
// data string it does not own. The tables follow runc's
// (libcontainer/specconv): an option mount(8) knows as a flag sets or clears
// that MS_* bit, propagation options are collected in order to be applied
// after the mount, "r"-prefixed options (rro, rnosuid, ...) become
// mount_setattr(AT_RECURSIVE) attributes, and anything else is handed to the
// filesystem in the data string unchanged (mode=, size=, newinstance, gid=).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace stack::rt {

struct MountOptions {
  unsigned long flags = 0;                 // MS_* for mount(2), MS_BIND|MS_REC included
  std::vector<unsigned long> propagation;  // MS_PRIVATE|MS_REC ..., applied in order after mounting
  std::string data;                        // filesystem options, comma-joined, in spec order
  uint64_t rec_attr_set = 0;               // MOUNT_ATTR_* set recursively after mounting
  uint64_t rec_attr_clr = 0;               // MOUNT_ATTR_* cleared recursively after mounting
  bool copy_up = false;                    // podman's "tmpcopyup": accepted, no copy made (see .cc)

  bool bind() const;       // MS_BIND present ("bind" or "rbind")
  bool recursive() const;  // MS_REC present ("rbind")
  // The per-mount flags a bind mount can only get through a second
  // MS_BIND|MS_REMOUNT (ro, nosuid, nodev, noexec, atime, ...).
  unsigned long bind_remount_flags() const;
};

// Parses the options of one spec mount. Fails (code EINVAL, message names
// the option) only for "idmap"/"ridmap", which need a user namespace fd we do
// not plan for.
Result<MountOptions> parse_mount_options(const std::vector<std::string>& options);

// linux.rootfsPropagation / a single propagation keyword -> MS_* bits
// ("rslave" -> MS_SLAVE|MS_REC). Fails with EINVAL naming the value.
Result<unsigned long> parse_propagation(const std::string& name);

}  // namespace stack::rt
