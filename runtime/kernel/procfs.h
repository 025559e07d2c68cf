// The container's /proc as the runtime relies on it. Two rules:
//
// 1. What may be mounted there. A non-proc mount whose destination is, or
//    resolves to, a place inside a procfs would hide the container's real
//    /proc files from the runtime's own writes and checks (CVE-2019-19921:
//    an image symlink /vol -> /proc and a volume at /vol). Only proc itself,
//    the host's procfs bound as /proc, and the few files lxcfs replaces
//    (/proc/cpuinfo ...) may go there, as runc allows.
//
// 2. How the runtime writes into it. A path such as
//    /proc/sys/net/ipv4/ip_forward is a name inside the container: an image
//    symlink or a mount over it (a racing mount from a container that
//    shares a volume) could send a write made with full privileges to a file
//    the container chose, or to another procfs file such as
//    /proc/sys/kernel/core_pattern (CVE-2025-52881). So /proc is opened once,
//    checked to be the root of a procfs, and every file is opened beneath
//    that fd without following symlinks or crossing any mount, then checked
//    to be on procfs again before the write.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/kernel/child_error.h"
#include "base/error.h"

namespace stack::rt {

// ---- parent ----

// Rule 1 by name: `dest` (a clean container path) at or under /proc is for
// a mount of `type` "proc", an lxcfs file, or (at /proc) a bind of
// `bind_source` when that is the root of a procfs. EPERM otherwise, with
// runc's words: "/proc/sys" cannot be mounted because it is inside /proc.
Result<> check_proc_destination(const std::string& dest, const std::string& type,
                                const std::string& bind_source);

// The /proc files a non-proc mount may cover (lxcfs's).
bool proc_file_may_be_covered(const std::string& dest);

// One linux.sysctl entry, ready for write_sysctls.
struct PlannedSysctl {
  std::string what;   // "sysctl net.ipv4.ip_forward", for errors
  std::string rel;    // "sys/net/ipv4/ip_forward", beneath /proc
  std::string value;
};

// Validates the keys ("linux.sysctl: invalid key ..." for "", "..", "/").
Result<std::vector<PlannedSysctl>> plan_sysctls(const std::map<std::string, std::string>& sysctl);

// ---- child (async-signal-safe) ----

// True when `fd` is on a procfs.
bool on_procfs(int fd) noexcept;

// Opens "/proc" under `root_fd` (no symlinks on the way) and checks that it
// is the root of a procfs. Returns the O_PATH fd or -errno with *err filled.
int open_proc_root(int root_fd, ChildError* err) noexcept;

// Writes `value` to `rel` ("sys/net/ipv4/ip_forward") beneath the fd from
// open_proc_root. A symlink on the way gives ELOOP, a mount on the way (or
// on the file itself) EXDEV, a file that is not procfs's EXDEV; the file is
// never created. `what` names the write in *err. Returns 0 or errno.
int write_proc_file(int proc_fd, const char* rel, const char* value, const char* what,
                    ChildError* err) noexcept;

// Every sysctl through the current root's /proc (after pivot_root). 0 or errno.
int write_sysctls(const std::vector<PlannedSysctl>& sysctls, ChildError* err) noexcept;

}  // namespace stack::rt
