// Named network namespaces that outlive any process: a fresh netns bind
// mounted at a file (like `ip netns add`), so a container's network is set up
// before its process exists and survives the container's restarts. The
// container spec then joins it by path (linux.namespaces: {type: network,
// path}).
#pragma once

#include <string>

#include "base/error.h"
#include "base/fd.h"

namespace stack::net {

inline constexpr const char* kDefaultNetnsDir = "/run/stack/netns";

// Creates the namespace (on a helper thread that unshares, so the caller's
// thread never changes namespace), brings its lo up, and bind-mounts it at
// `path` (parent dirs made; the dir is made a private mount once). Error if
// `path` already holds a namespace.
stack::Result<void> create_netns(const std::string& path);
// Unmounts (MNT_DETACH) and unlinks; absent is not an error.
stack::Result<void> delete_netns(const std::string& path);
// True when `path` is a mounted netns.
bool netns_exists(const std::string& path);
stack::Result<stack::UniqueFd> open_netns(const std::string& path);

}  // namespace stack::net
