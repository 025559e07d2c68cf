// Terminals. With process.terminal the container gets a pty from its own
// devpts instance; the master end is handed to whoever asked through a Unix
// socket (runc's --console-socket protocol: one SCM_RIGHTS message), or, when
// the runtime itself is the client (run -t / exec -t without a socket), kept
// here and proxied to our own stdio.
#pragma once

#include <sys/types.h>

#include <string>

#include "runtime/kernel/child_error.h"
#include "base/error.h"
#include "base/fd.h"

namespace stack::rt {

Result<UniqueFd> connect_console_socket(const std::string& path);

// Child: open /dev/ptmx (the container's, after pivot), unlock, open the
// slave, send the master over `socket_fd`, make the slave stdio and the
// controlling terminal of a new session. Async-signal-safe.
int setup_console(int socket_fd, unsigned rows, unsigned cols, ChildError* err) noexcept;

// Receive the master fd sent by setup_console.
Result<UniqueFd> receive_pty_master(int socket_fd);

// Copy stdin -> master and master -> stdout until the master hangs up, with
// our terminal in raw mode when stdin is a tty. Window size is copied once.
void proxy_pty(int master);

}  // namespace stack::rt
