// Finding the user's executable in the container, in the init, before any
// seccomp filter is loaded (issue 12). The init used to ask the kernel with
// faccessat(AT_EACCESS) after the filter: glibc issues faccessat2 for that,
// and a profile written before faccessat2 existed (Docker's before 20.10,
// many hand-written ones) returns EPERM for it, so every container failed
// with "executable file not found". A lookup made before the filter cannot
// be broken by any profile; it runs as root, so it decides from the file's
// mode what the target user may execute, as execve will.
//
// Child-side: raw syscalls on the plan's strings, nothing allocated.
#pragma once

#include <string>
#include <vector>

#include "runtime/kernel/child_error.h"
#include "runtime/kernel/identity.h"

namespace stack::rt {

// The index of the first candidate that `who` may execute (a regular file
// with the right x bit, on a mount without noexec); relative candidates are
// taken from the current directory. -1 with `err` set when none: ENOENT "executable file not
// found in $PATH" for a bare name none of whose candidates exists, else the
// real errno of the most telling candidate (EACCES for one that exists but
// may not be run, ELOOP ...), which the caller's message spells out.
int find_executable(const std::vector<std::string>& candidates, const std::string& arg0, const IdentityPlan& who,
                    ChildError* err) noexcept;

}  // namespace stack::rt
