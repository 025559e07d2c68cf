// clone3 without a new stack: fork semantics (the child continues on a copy
// of our stack) plus namespace flags clone(2) cannot carry (CLONE_NEWTIME
// shares its bit with the exit-signal field there).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace stack::rt {

// Returns the child's pid in the parent, 0 in the child, -1 with errno.
// Falls back to clone(2) where clone3 is missing (ENOSYS), unless a flag
// only clone3 supports is asked for.
pid_t clone_process(uint64_t flags) noexcept;

}  // namespace stack::rt
