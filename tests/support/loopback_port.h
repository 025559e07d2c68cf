// Loopback TCP ports for the tests' throwaway servers (registry, etcd).
#pragma once

namespace stack::test {

// A port on 127.0.0.1 that was free a moment ago (the kernel's choice for
// bind(0)); 0 when none could be had.
int free_loopback_port();
// Whether something accepts TCP connections on 127.0.0.1:port.
bool loopback_accepts(int port);

}  // namespace stack::test
