// Whole-file writes for the netplane's state and the containers' /etc files.
//
// Durability is a choice per file, because fsync costs 10-25 ms on a VM disk
// and endpoint setup must stay cheap:
// - Process: temp file + rename, no fsync. Survives a crash of the daemon
//   (the page cache keeps the data), not of the host. Right for everything
//   that is only meaningful while the host stays up: IPAM leases and
//   published-port records (after a reboot no endpoint or rule exists, and
//   the daemon re-creates them from its own store), /etc/hosts and
//   resolv.conf of a container.
// - Disk: fsync of the file and of its directory too.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "runtime/kernel/error.h"

namespace stack::net {

enum class Durability { Process, Disk };

// Writes a unique temp file next to `path`, then renames it over `path`: a
// reader sees the old or the new content, never a mix, and a failure leaves
// `path` as it was (the temp file is removed). Use it before the file is
// bind-mounted: after, a rename would leave the container's mount on the old
// inode; rewrite such a file with write_file_in_place().
rt::Result<void> write_file_atomic(const std::string& path, std::string_view content, mode_t mode = 0644,
                                   Durability durability = Durability::Process);
// Truncates and rewrites `path` keeping its inode (so bind mounts see it).
rt::Result<void> write_file_in_place(const std::string& path, std::string_view content);
// write(2) until done, retrying EINTR; `what` names the file in errors.
rt::Result<void> write_all(int fd, std::string_view data, const std::string& what);

}  // namespace stack::net
