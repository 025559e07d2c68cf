// Docker's copy-up of a new volume (runtime/image/volume_copy.h) against a
// real tree: owners, modes, times and links kept, and an image that points
// its volume path outside the rootfs gets its own rootfs's content, never
// the host's.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/image/volume_copy.h"
#include "tests/support/bundle.h"

namespace stack::img {
namespace {

namespace fs = std::filesystem;

struct stat stat_of(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

class VolumeCopy : public ::testing::Test {
 protected:
  void SetUp() override {
    STACK_REQUIRE_ROOT();
    fs::create_directories(rootfs() + "/data/nested/deeper");
    fs::create_directories(rootfs() + "/etc");
    fs::create_directories(dest());
    std::ofstream(rootfs() + "/data/a.txt") << "alpha\n";
    std::ofstream(rootfs() + "/data/nested/deeper/b.txt") << "beta\n";
    std::ofstream(rootfs() + "/etc/marker") << "the image's etc\n";
    ASSERT_EQ(::chown((rootfs() + "/data/a.txt").c_str(), 1000, 1001), 0);
    ASSERT_EQ(::chmod((rootfs() + "/data/a.txt").c_str(), 0604), 0);
    ASSERT_EQ(::chown((rootfs() + "/data/nested").c_str(), 33, 33), 0);
    ASSERT_EQ(::chmod((rootfs() + "/data/nested").c_str(), 0750), 0);
    ASSERT_EQ(::chown((rootfs() + "/data").c_str(), 999, 999), 0);
    ASSERT_EQ(::chmod((rootfs() + "/data").c_str(), 0700), 0);
    fs::create_symlink("/etc/shadow", rootfs() + "/data/host-secret");
    ASSERT_EQ(::mkfifo((rootfs() + "/data/pipe").c_str(), 0600), 0);
    // The volume path itself a link out of the root.
    fs::create_symlink("/etc", rootfs() + "/evil");
  }
  std::string rootfs() const { return tmp_.path() + "/rootfs"; }
  std::string dest() const { return tmp_.path() + "/volume"; }
  test::TempDir tmp_{"stack-volume-copy"};
};

TEST_F(VolumeCopy, CopiesTheTreeWithOwnersModesAndLinks) {
  auto empty = dir_is_empty(dest());
  ASSERT_TRUE(empty);
  EXPECT_TRUE(*empty);
  auto r = copy_up(rootfs(), "/data", dest());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(*dir_is_empty(dest()));

  EXPECT_EQ(test::read_file(dest() + "/a.txt"), "alpha\n");
  EXPECT_EQ(test::read_file(dest() + "/nested/deeper/b.txt"), "beta\n");
  auto a = stat_of(dest() + "/a.txt");
  EXPECT_EQ(a.st_uid, 1000u);
  EXPECT_EQ(a.st_gid, 1001u);
  EXPECT_EQ(a.st_mode & 07777, 0604u);
  auto nested = stat_of(dest() + "/nested");
  EXPECT_EQ(nested.st_uid, 33u);
  EXPECT_EQ(nested.st_mode & 07777, 0750u);
  EXPECT_EQ(stat_of(dest() + "/nested").st_mtim.tv_sec, stat_of(rootfs() + "/data/nested").st_mtim.tv_sec);
  auto top = stat_of(dest());
  EXPECT_EQ(top.st_uid, 999u) << "the volume takes the image directory's owner";
  EXPECT_EQ(top.st_mode & 07777, 0700u);
  // A link stays a link: its target is not read.
  EXPECT_TRUE(fs::is_symlink(dest() + "/host-secret"));
  EXPECT_EQ(fs::read_symlink(dest() + "/host-secret"), "/etc/shadow");
  EXPECT_FALSE(fs::exists(fs::symlink_status(dest() + "/pipe"))) << "a fifo is not volume data";
}

TEST_F(VolumeCopy, APathLinkedOutOfTheRootCopiesTheRootsOwnContent) {
  auto r = copy_up(rootfs(), "/evil", dest());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(test::read_file(dest() + "/marker"), "the image's etc\n");
  EXPECT_FALSE(fs::exists(dest() + "/passwd")) << "the host's /etc was copied";
}

TEST_F(VolumeCopy, AMissingPathOrAFileCopiesNothing) {
  ASSERT_TRUE(copy_up(rootfs(), "/nowhere", dest()));
  ASSERT_TRUE(copy_up(rootfs(), "/data/a.txt", dest()));
  EXPECT_TRUE(*dir_is_empty(dest()));
  EXPECT_TRUE(*dir_is_empty(tmp_.path() + "/absent"));
}

}  // namespace
}  // namespace stack::img
