#include "tests/support/private_netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include "tests/support/bundle.h"

namespace stack::test {

PrivateNetns::PrivateNetns() : original_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
  if (::geteuid() != 0) return;  // the test skips itself (STACK_REQUIRE_ROOT); ok() stays false
  if (!original_) {
    ADD_FAILURE() << "open /proc/thread-self/ns/net: " << std::strerror(errno);
    return;
  }
  if (::unshare(CLONE_NEWNET) != 0) {
    ADD_FAILURE() << "unshare(CLONE_NEWNET): " << std::strerror(errno);
    return;
  }
  CmdResult lo = run({"ip", "link", "set", "lo", "up"});
  if (lo.status != 0) {
    ADD_FAILURE() << "ip link set lo up: " << lo.err;
    return;
  }
  ok_ = true;
}

PrivateNetns::~PrivateNetns() {
  if (original_) ::setns(original_.get(), CLONE_NEWNET);
}

}  // namespace stack::test
