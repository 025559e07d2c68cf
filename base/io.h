// The one home of whole-file and whole-buffer I/O: write_all, read_file,
// write_file_atomic (with a durability choice), write_file_in_place. Nothing
// else in the tree loops over write(2) or reads a whole file by hand.
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

#include "base/error.h"

namespace stack::io {

enum class Durability { Process, Disk };

// Writes a unique temp file next to `path`, then renames it over `path`: a
// reader sees the old or the new content, never a mix, and a failure leaves
// `path` as it was (the temp file is removed). Use it before the file is
// bind-mounted: after, a rename would leave the container's mount on the old
// inode; rewrite such a file with write_file_in_place().
stack::Result<void> write_file_atomic(const std::string& path, std::string_view content, mode_t mode = 0644,
                                   Durability durability = Durability::Process);
// Truncates and rewrites `path` keeping its inode (so bind mounts see it).
stack::Result<void> write_file_in_place(const std::string& path, std::string_view content);
// write(2) until done, retrying EINTR; `what` names the file in errors.
stack::Result<void> write_all(int fd, std::string_view data, const std::string& what = "fd");
// write_all() to a pipe whose reader may already be gone (an OCI hook that
// never reads its state, and exits first): EPIPE comes back as an error
// instead of SIGPIPE killing the writer. SIGPIPE is blocked in the calling
// thread only for the write, and a SIGPIPE it raised is consumed before the
// mask is restored, so the process keeps its default disposition (which
// children inherit across exec).
stack::Result<void> write_to_pipe(int fd, std::string_view data, const std::string& what = "pipe");

// The whole file; ENOENT and the rest as errors naming the path.
stack::Result<std::string> read_file(const std::string& path);
// The whole file, or "" when it cannot be read (for /proc files that vanish
// with their process, and optional files).
std::string read_text(const std::string& path);

}  // namespace stack::io
