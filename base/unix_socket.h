// A connected AF_UNIX stream socket: the one connect of the CLI to stackd
// and of a manager's relay to its own API socket.
#pragma once

#include <string>

#include "base/error.h"
#include "base/fd.h"

namespace stack {

// Connected to `path` (close-on-exec), or the errno of socket()/connect()
// with "connect PATH" as context.
Result<UniqueFd> connect_unix(const std::string& path);

}  // namespace stack
