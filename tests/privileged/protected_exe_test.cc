// Both forms of protected executable (runtime/kernel/protected_exe.h) refuse
// the write the CVE-2019-5736 attacker makes: reopening the executable
// through a /proc/self/fd magic link for writing. A plain fd to the same
// file is the positive control: that write lands.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "runtime/kernel/protected_exe.h"
#include "tests/support/bundle.h"

using namespace stack::rt;
using stack::UniqueFd;
using stack::test::read_file;
using stack::test::TempDir;

namespace {

// What the attacker does with the fd it got from /proc/<pid>/exe.
int write_through(int fd) {
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  int w = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (w < 0) return errno;
  int e = ::write(w, "pwned", 5) == 5 ? 0 : errno;
  ::close(w);
  return e;
}

class ProtectedExe : public ::testing::Test {
 protected:
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    std::filesystem::copy_file("/bin/true", bin_);
  }
  TempDir dir_;
  std::string bin_ = dir_.path() + "/victim";
};

TEST_F(ProtectedExe, PlainFdToTheFileIsWritable) {
  UniqueFd plain(::open(bin_.c_str(), O_PATH | O_CLOEXEC));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(is_write_protected(plain.get()));
  EXPECT_EQ(write_through(plain.get()), 0);
  EXPECT_EQ(read_file(bin_).substr(0, 5), "pwned");
}

TEST_F(ProtectedExe, ReadOnlyCloneRefusesWritesAndStillExecutes) {
  const std::string before = read_file(bin_);
  auto fd = readonly_clone(bin_);
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_TRUE(is_write_protected(fd->get()));
  EXPECT_EQ(write_through(fd->get()), EROFS);
  EXPECT_EQ(read_file(bin_), before);
  auto r = stack::test::run({"/proc/self/fd/" + std::to_string(fd->get())});
  // run() forks this process: the fd is inherited until exec.
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(ProtectedExe, SealedCopyRefusesWritesAndStillExecutes) {
  const std::string before = read_file(bin_);
  auto fd = sealed_copy(bin_, "victim");
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_TRUE(is_write_protected(fd->get()));
  EXPECT_EQ(write_through(fd->get()), EPERM);
  EXPECT_EQ(read_file(bin_), before);
  EXPECT_EQ(read_file("/proc/self/fd/" + std::to_string(fd->get())), before);
  auto r = stack::test::run({"/proc/self/fd/" + std::to_string(fd->get())});
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace
