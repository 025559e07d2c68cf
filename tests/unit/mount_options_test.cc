// OCI mount options -> mount(2) flags, propagation, recursive attributes and
// the filesystem data string, as runc reads them.
#include "runtime/kernel/mount_options.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace stack::rt {
namespace {

MountOptions parse_ok(const std::vector<std::string>& opts) {
  auto r = parse_mount_options(opts);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? *r : MountOptions{};
}

TEST(MountOptions, DockerDevTmpfs) {
  auto o = parse_ok({"nosuid", "strictatime", "mode=755", "size=65536k"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(o.data, "mode=755,size=65536k");
  EXPECT_FALSE(o.bind());
  EXPECT_TRUE(o.propagation.empty());
}

TEST(MountOptions, DevptsKeepsFilesystemOptionsInOrder) {
  auto o = parse_ok({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
  EXPECT_EQ(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
}

TEST(MountOptions, EveryFlagSetsItsBit) {
  struct Case {
    const char* opt;
    unsigned long flag;
  } cases[] = {{"ro", MS_RDONLY},         {"nosuid", MS_NOSUID},       {"nodev", MS_NODEV},
               {"noexec", MS_NOEXEC},     {"sync", MS_SYNCHRONOUS},    {"remount", MS_REMOUNT},
               {"bind", MS_BIND},         {"rbind", MS_BIND | MS_REC}, {"relatime", MS_RELATIME},
               {"strictatime", MS_STRICTATIME}, {"noatime", MS_NOATIME}, {"nodiratime", MS_NODIRATIME},
               {"dirsync", MS_DIRSYNC},   {"mand", MS_MANDLOCK},       {"nosymfollow", MS_NOSYMFOLLOW}};
  for (const auto& c : cases) {
    auto o = parse_ok({c.opt});
    EXPECT_EQ(o.flags, c.flag) << c.opt;
    EXPECT_TRUE(o.data.empty()) << c.opt;
  }
}

TEST(MountOptions, ClearingOptionsUndoEarlierOnes) {
  EXPECT_EQ(parse_ok({"ro", "rw"}).flags, 0u);
  EXPECT_EQ(parse_ok({"rw", "ro"}).flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(parse_ok({"nosuid", "suid"}).flags, 0u);
  EXPECT_EQ(parse_ok({"nodev", "dev"}).flags, 0u);
  EXPECT_EQ(parse_ok({"noexec", "exec"}).flags, 0u);
  EXPECT_EQ(parse_ok({"sync", "async"}).flags, 0u);
  EXPECT_EQ(parse_ok({"relatime", "norelatime"}).flags, 0u);
  EXPECT_EQ(parse_ok({"noatime", "atime"}).flags, 0u);
  EXPECT_EQ(parse_ok({"defaults"}).flags, 0u);
  EXPECT_TRUE(parse_ok({"defaults"}).data.empty());
}

TEST(MountOptions, BindAndRbind) {
  auto b = parse_ok({"bind", "ro"});
  EXPECT_TRUE(b.bind());
  EXPECT_FALSE(b.recursive());
  EXPECT_EQ(b.bind_remount_flags(), static_cast<unsigned long>(MS_RDONLY));

  auto r = parse_ok({"rbind", "nosuid", "nodev"});
  EXPECT_TRUE(r.bind());
  EXPECT_TRUE(r.recursive());
  EXPECT_EQ(r.bind_remount_flags(), static_cast<unsigned long>(MS_NOSUID | MS_NODEV));

  // A plain bind has nothing to remount.
  EXPECT_EQ(parse_ok({"rbind", "rw"}).bind_remount_flags(), 0u);
}

TEST(MountOptions, PropagationIsCollectedInOrder) {
  auto o = parse_ok({"rbind", "rprivate", "shared", "slave", "rslave", "unbindable", "runbindable",
                     "private", "rshared"});
  ASSERT_EQ(o.propagation.size(), 8u);
  EXPECT_EQ(o.propagation[0], static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_EQ(o.propagation[1], static_cast<unsigned long>(MS_SHARED));
  EXPECT_EQ(o.propagation[2], static_cast<unsigned long>(MS_SLAVE));
  EXPECT_EQ(o.propagation[3], static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(o.propagation[4], static_cast<unsigned long>(MS_UNBINDABLE));
  EXPECT_EQ(o.propagation[5], static_cast<unsigned long>(MS_UNBINDABLE | MS_REC));
  EXPECT_EQ(o.propagation[6], static_cast<unsigned long>(MS_PRIVATE));
  EXPECT_EQ(o.propagation[7], static_cast<unsigned long>(MS_SHARED | MS_REC));
  // Propagation never leaks into the flags of the mount itself.
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_BIND | MS_REC));
}

TEST(MountOptions, UnknownOptionsBecomeData) {
  auto o = parse_ok({"ro", "uid=1000", "size=1m", "weird_option", "nr_inodes=5"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(o.data, "uid=1000,size=1m,weird_option,nr_inodes=5");
}

TEST(MountOptions, RecursiveAttributes) {
  auto o = parse_ok({"rbind", "rro", "rnosuid", "rnodev", "rnoexec"});
  EXPECT_EQ(o.rec_attr_set,
            uint64_t{MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC});
  EXPECT_EQ(o.rec_attr_clr, 0u);
  EXPECT_TRUE(o.data.empty());

  auto c = parse_ok({"rro", "rrw", "rsuid"});
  EXPECT_EQ(c.rec_attr_set, 0u);
  EXPECT_EQ(c.rec_attr_clr, uint64_t{MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID});

  // mount_setattr wants the whole atime field cleared with an atime value.
  auto a = parse_ok({"rnoatime"});
  EXPECT_EQ(a.rec_attr_set, uint64_t{MOUNT_ATTR_NOATIME});
  EXPECT_EQ(a.rec_attr_clr, uint64_t{MOUNT_ATTR__ATIME});
  auto s = parse_ok({"rnoatime", "rstrictatime"});
  EXPECT_EQ(s.rec_attr_set, uint64_t{MOUNT_ATTR_STRICTATIME});
}

TEST(MountOptions, TmpcopyupIsAcceptedNotPassedToTheFilesystem) {
  auto o = parse_ok({"tmpcopyup", "mode=1777"});
  EXPECT_TRUE(o.copy_up);
  EXPECT_EQ(o.data, "mode=1777");
}

TEST(MountOptions, IdmapIsRefusedByName) {
  for (const char* opt : {"idmap", "ridmap"}) {
    auto r = parse_mount_options({"rbind", opt});
    ASSERT_FALSE(r.has_value()) << opt;
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_NE(r.error().message().find(opt), std::string::npos) << r.error().message();
  }
}

TEST(MountOptions, EmptyListAndEmptyStrings) {
  auto o = parse_ok({});
  EXPECT_EQ(o.flags, 0u);
  EXPECT_TRUE(o.data.empty());
  EXPECT_TRUE(parse_ok({"", "ro", ""}).data.empty());
}

TEST(MountPropagation, ParsesEveryKeywordAndRejectsOthers) {
  EXPECT_EQ(*parse_propagation("rslave"), static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(*parse_propagation("private"), static_cast<unsigned long>(MS_PRIVATE));
  EXPECT_EQ(*parse_propagation("rshared"), static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_EQ(*parse_propagation("unbindable"), static_cast<unsigned long>(MS_UNBINDABLE));
  auto bad = parse_propagation("sideways");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, EINVAL);
  EXPECT_NE(bad.error().message().find("sideways"), std::string::npos);
  EXPECT_FALSE(parse_propagation("").has_value());
}

}  // namespace
}  // namespace stack::rt
