// Container root filesystems from unpacked layers: whiteouts and opaque dirs
// take effect in the merged view, writes land in the container's upper dir,
// the lowers stay untouched, unmount leaves nothing in mountinfo, and a
// 60-layer image (option string beyond a page) mounts via "lowerdir+".
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/image/overlay.h"
#include "runtime/image/unpack.h"
#include "tests/support/bundle.h"
#include "tests/support/tar_builder.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;

using stack::test::mounted;
using stack::test::MountGuard;

std::string unpack_into(const TarBuilder& b, const std::string& dir) {
  fs::create_directories(dir);
  std::string blob = dir + ".tar";
  b.write(blob, Compression::none);
  auto r = img::unpack_layer(blob, dir);
  fs::remove(blob);
  if (!r) ADD_FAILURE() << r.error().message();
  return dir;
}

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

TEST(ImageOverlay, MergesLayersAndWritesToUpper) {
  STACK_REQUIRE_ROOT();
  TempDir tmp("stack-overlay");
  TarBuilder base;
  base.file("a", "1");
  base.file("b", "1");
  base.file("d/old", "old");
  TarBuilder top;
  top.whiteout("", "b");
  top.file("a", "2");
  top.dir("d");
  top.opaque("d");
  top.file("d/new", "new");
  std::string l1 = unpack_into(base, tmp.path() + "/l1");
  std::string l2 = unpack_into(top, tmp.path() + "/l2");

  auto layer = img::create_container_layer(tmp.path() + "/c");
  ASSERT_TRUE(layer) << layer.error().message();
  MountGuard guard{layer->rootfs};
  auto m = img::mount_overlay({l2, l1}, layer->upper, layer->work, layer->rootfs);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_TRUE(mounted(layer->rootfs));

  EXPECT_EQ(read_file(layer->rootfs + "/a"), "2");
  EXPECT_FALSE(exists(layer->rootfs + "/b")) << "whiteout hides b";
  EXPECT_EQ(read_file(layer->rootfs + "/d/new"), "new");
  EXPECT_FALSE(exists(layer->rootfs + "/d/old")) << "opaque d hides the lower's content";

  { std::ofstream(layer->rootfs + "/c") << "written"; }
  { std::ofstream(layer->rootfs + "/a") << "3"; }
  EXPECT_EQ(read_file(layer->upper + "/c"), "written");
  EXPECT_EQ(read_file(layer->upper + "/a"), "3");
  EXPECT_EQ(read_file(l1 + "/a"), "1");
  EXPECT_EQ(read_file(l2 + "/a"), "2");
  EXPECT_FALSE(exists(l1 + "/c"));
  EXPECT_FALSE(exists(l2 + "/c"));

  auto busy = img::remove_container_layer(layer->dir);
  ASSERT_FALSE(busy) << "removing a mounted layer must be refused";
  EXPECT_EQ(busy.error().code, EBUSY);
  EXPECT_EQ(read_file(l1 + "/b"), "1");

  auto u = img::unmount_overlay(layer->rootfs);
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_FALSE(mounted(layer->rootfs));
  auto rm = img::remove_container_layer(layer->dir);
  ASSERT_TRUE(rm) << rm.error().message();
  EXPECT_FALSE(exists(layer->dir));
  EXPECT_EQ(read_file(l1 + "/a"), "1");
}

TEST(ImageOverlay, SixtyLayersBeyondAPageOfOptions) {
  STACK_REQUIRE_ROOT();
  TempDir tmp("stack-overlay60");
  std::vector<std::string> lowers;  // top first
  size_t option_bytes = 0;
  for (int i = 0; i < 60; ++i) {
    TarBuilder b;
    b.file("f" + std::to_string(i), std::to_string(i));
    b.file("top", std::to_string(i));
    // Long names: 60 of them exceed the 4 KiB the classic option string allows.
    std::string dir = tmp.path() + "/layer-" + std::to_string(i) + "-" + std::string(80, 'x');
    lowers.insert(lowers.begin(), unpack_into(b, dir));
    option_bytes += dir.size() + 1;
  }
  ASSERT_GT(option_bytes, 4096u);
  auto layer = img::create_container_layer(tmp.path() + "/c");
  ASSERT_TRUE(layer) << layer.error().message();
  MountGuard guard{layer->rootfs};
  auto m = img::mount_overlay(lowers, layer->upper, layer->work, layer->rootfs);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(read_file(layer->rootfs + "/top"), "59") << "the first lower is the top layer";
  for (int i = 0; i < 60; ++i) EXPECT_EQ(read_file(layer->rootfs + "/f" + std::to_string(i)), std::to_string(i));
  ASSERT_TRUE(img::unmount_overlay(layer->rootfs));
  EXPECT_FALSE(mounted(layer->rootfs));
  EXPECT_TRUE(img::remove_container_layer(layer->dir));
}

TEST(ImageOverlay, ReadOnlyViews) {
  STACK_REQUIRE_ROOT();
  TempDir tmp("stack-overlay-ro");
  TarBuilder b1;
  b1.file("one", "1");
  TarBuilder b2;
  b2.file("two", "2");
  std::string l1 = unpack_into(b1, tmp.path() + "/l1");
  std::string l2 = unpack_into(b2, tmp.path() + "/l2");
  for (const auto& lowers : {std::vector<std::string>{l1}, std::vector<std::string>{l2, l1}}) {
    std::string target = tmp.path() + "/ro" + std::to_string(lowers.size());
    fs::create_directory(target);
    MountGuard guard{target};
    auto m = img::mount_overlay_readonly(lowers, target);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(read_file(target + "/one"), "1");
    if (lowers.size() == 2) {
      EXPECT_EQ(read_file(target + "/two"), "2");
    }
    int fd = ::open((target + "/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    EXPECT_LT(fd, 0);
    EXPECT_EQ(errno, EROFS);
    if (fd >= 0) ::close(fd);
    ASSERT_TRUE(img::unmount_overlay(target));
    EXPECT_FALSE(mounted(target));
  }
  EXPECT_FALSE(exists(l1 + "/new"));
}

TEST(ImageOverlay, RefusesMissingLayers) {
  STACK_REQUIRE_ROOT();
  TempDir tmp("stack-overlay-bad");
  auto layer = img::create_container_layer(tmp.path() + "/c");
  ASSERT_TRUE(layer);
  MountGuard guard{layer->rootfs};
  EXPECT_FALSE(img::mount_overlay({}, layer->upper, layer->work, layer->rootfs));
  EXPECT_FALSE(img::mount_overlay({tmp.path() + "/missing"}, layer->upper, layer->work, layer->rootfs));
  EXPECT_FALSE(mounted(layer->rootfs));
  EXPECT_FALSE(img::create_container_layer(layer->dir)) << "an existing layer is not reused";
}

}  // namespace
}  // namespace stack::test
