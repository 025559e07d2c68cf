// The detach keys of `stack attach` (orchestrator/cli/detach_keys.h): the
// sequence ends the attach and never reaches the container; a partial one
// that turns out not to be it is sent on, in order.
#include "orchestrator/cli/detach_keys.h"

#include <gtest/gtest.h>

namespace stack::cli {
namespace {

TEST(DetachKeys, TheDefaultSequenceDetachesAndIsNotSent) {
  auto k = DetachKeys::parse(kDefaultDetachKeys);
  ASSERT_TRUE(k) << k.error().message();
  bool detached = false;
  EXPECT_EQ(k->filter("ls\r", detached), "ls\r");
  EXPECT_FALSE(detached);
  EXPECT_EQ(k->filter("ab\x10", detached), "ab");  // ctrl-p held back
  EXPECT_FALSE(detached);
  EXPECT_EQ(k->filter("\x11" "after", detached), "");  // ctrl-q: detached, the rest dropped
  EXPECT_TRUE(detached);
}

TEST(DetachKeys, APartialSequenceIsSentOnOnceItIsNotTheSequence) {
  auto k = DetachKeys::parse("ctrl-p,ctrl-q");
  ASSERT_TRUE(k);
  bool detached = false;
  EXPECT_EQ(k->filter("\x10", detached), "");
  EXPECT_EQ(k->filter("x", detached), "\x10x");
  EXPECT_EQ(k->filter("\x10\x10\x11", detached), "\x10");  // the second ctrl-p starts it anew
  EXPECT_TRUE(detached);
}

TEST(DetachKeys, ParsesDockersFormsAndRefusesOthers) {
  bool detached = false;
  auto k = DetachKeys::parse("ctrl-a,x");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->filter("\x01y\x01x", detached), "\x01y");
  EXPECT_TRUE(detached);
  auto none = DetachKeys::parse("");
  ASSERT_TRUE(none);
  detached = false;
  EXPECT_EQ(none->filter("\x10\x11", detached), "\x10\x11");
  EXPECT_FALSE(detached);
  EXPECT_FALSE(DetachKeys::parse("ctrl-1"));
  EXPECT_FALSE(DetachKeys::parse("alt-x"));
}

}  // namespace
}  // namespace stack::cli
