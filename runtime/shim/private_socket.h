// The shim's listening sockets (shim.sock, attach.sock): root's only, so
// the daemon (root) is their sole client. Bound with mode 0600 through the
// umask, since a chmod after bind would leave a window.
#pragma once

#include <string>

#include "base/error.h"
#include "base/fd.h"

namespace stack::shim {

// A non-blocking, close-on-exec AF_UNIX listener at `path` (an old socket
// file there is replaced).
stack::Result<stack::UniqueFd> listen_private(const std::string& path);

}  // namespace stack::shim
