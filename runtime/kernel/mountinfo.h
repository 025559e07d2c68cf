// /proc/self/mountinfo, read by the parent (never in a child after clone).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace stack::rt {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(const std::string& s);

// The mount points at or below `dir` (an absolute, clean path), in the
// order mountinfo lists them (parents before what is mounted on them).
std::vector<std::string> mount_points_under(const std::string& mountinfo, const std::string& dir);

// Detaches every mount at or below `dir` in this mount namespace, the
// latest first. Used for a container without a mount namespace of its own,
// whose mounts (made under its rootfs) would otherwise outlive it.
Result<> unmount_under(const std::string& dir);

}  // namespace stack::rt
