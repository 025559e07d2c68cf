// A node that does not serve attach itself (a cluster's other nodes: the
// leader does not relay an attach to them yet) refuses it in words a user
// can act on, rather than failing somewhere in the stream.
#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_node.h"

namespace stack::test {
namespace {

TEST(LocalNodeAttach, ANodeThatCannotRelayRefusesSayingSo) {
  FakeClock clock;
  FakeNode node(clock);
  auto a = node.attach("demo-app-1-abc123", true);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ENOTSUP);
  EXPECT_NE(a.error().message().find("attach to a replica on another node is not supported yet"), std::string::npos)
      << a.error().message();
}

}  // namespace
}  // namespace stack::test
