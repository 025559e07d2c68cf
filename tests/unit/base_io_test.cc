// base/io: writes to a pipe whose reader is gone.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/fd.h"
#include "base/io.h"

namespace {

// An OCI hook that exits before reading its state closed the pipe's read end:
// the runtime must get EPIPE, not die of SIGPIPE (runtime exit 141 in CI), and
// no SIGPIPE may stay pending to kill it once the mask is restored.
TEST(BaseIo, WriteToAClosedPipeFailsWithEpipeAndTheWriterLives) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  stack::UniqueFd rd(p[0]), wr(p[1]);
  rd.reset();
  auto r = stack::io::write_to_pipe(wr.get(), std::string(100, 'x'), "hook stdin");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPIPE);
  EXPECT_NE(r.error().message().find("hook stdin"), std::string::npos) << r.error().message();
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
  // The default disposition is left alone: children exec'd later inherit it.
  struct sigaction sa{};
  ::sigaction(SIGPIPE, nullptr, &sa);
  EXPECT_EQ(sa.sa_handler, SIG_DFL);
}

TEST(BaseIo, WriteToAnOpenPipeWritesEverything) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  stack::UniqueFd rd(p[0]), wr(p[1]);
  ASSERT_TRUE(stack::io::write_to_pipe(wr.get(), "state", "hook stdin"));
  wr.reset();
  char buf[16] = {};
  EXPECT_EQ(::read(rd.get(), buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf), "state");
}

}  // namespace
