// CVE regression test (security issue 10), CVE-2021-30465: a container that
// shares a volume with the one being created swaps a directory on a mount
// destination for a symlink while the runtime works. A runtime that checks
// the path and then mounts by name follows the new symlink out of the rootfs
// and mounts on the host path; a later mount whose source is under that host
// path then binds the attacker's volume instead. Ours resolves every target
// to an fd inside the root and mounts on that fd, so a swap can only move
// the mount to another place inside the rootfs.
#include <cstdio>
#include <thread>

#include "runtime/kernel/safe_path.h"
#include "tests/support/cve_fixture.h"

namespace stack::rt {
namespace {

using namespace rootfs_harness;
using test::read_file;

// The mount a runtime makes on an fd resolved inside the root.
int bind_in_root_fd(const std::string& rootfs, const std::string& dest, const std::string& source) {
  auto target = open_in_root(rootfs, dest, CreateMode::kNone);
  if (!target) return 1;
  return ::mount(source.c_str(), fd_path(target->get()).c_str(), nullptr, MS_BIND, nullptr) == 0 ? 0 : 2;
}

// Runs `fn` in a child back in the mount namespace of `host_pid`: the
// attacker renames where our new mounts are not visible (in the namespace
// that has a mount, its mount point cannot be renamed).
bool in_mount_ns_of(pid_t host_pid, const std::function<bool()>& fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int ns = ::open(("/proc/" + std::to_string(host_pid) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC);
    _exit(ns >= 0 && ::setns(ns, CLONE_NEWNS) == 0 && fn() ? 0 : 1);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

class CVE_2021_30465 : public CveTest {
 protected:
  // rootfs/shared/x: a directory, the destination of the volume mount;
  // rootfs/shared/y: the symlink the attacker swaps in, to the host path.
  void layout(const std::string& rootfs, const std::string& host) {
    fs::create_directories(rootfs + "/shared/x");
    fs::create_directory_symlink(host, rootfs + "/shared/y");
    // Where the symlink leads when read inside the root, so a mount through
    // it succeeds there (inside) rather than failing.
    fs::create_directories(rootfs + host);
  }
  // Exchanges x and y (renameat2 RENAME_EXCHANGE: never a moment without either).
  static bool swap(const std::string& rootfs) {
    return ::renameat2(AT_FDCWD, (rootfs + "/shared/x").c_str(), AT_FDCWD, (rootfs + "/shared/y").c_str(),
                       RENAME_EXCHANGE) == 0;
  }
  // Puts the directory back at x.
  static void settle(const std::string& rootfs) {
    if (fs::is_symlink(rootfs + "/shared/x")) swap(rootfs);
  }
};

TEST_F(CVE_2021_30465, ASwappedMountTargetNeverPutsTheMountOnTheHost) {
  test::Bundle b;
  test::TempDir host("stack-rootfs-race");  // a host path the attacker wants covered
  test::TempDir vol("stack-rootfs-vol");    // the attacker's shared volume
  std::ofstream(host.path() + "/marker") << "host";
  std::ofstream(vol.path() + "/marker") << "attacker";
  layout(b.rootfs(), host.path());

  // Positive control, the check-then-mount runtime: x is checked to be a
  // plain directory, the attacker wins the race (the swap is made here,
  // deterministically, between check and use), the mount by name follows
  // the symlink onto the host path, and the next mount, whose source is
  // that host path, binds the attacker's volume.
  int control = test::in_scratch_mount_ns([&] {
    const std::string x = b.rootfs() + "/shared/x";
    struct stat st {};
    if (::lstat(x.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return 10;
    if (!swap(b.rootfs())) return 11;
    if (::mount(vol.path().c_str(), x.c_str(), nullptr, MS_BIND, nullptr) != 0) return 12;
    return read_file(host.path() + "/marker") == "attacker" ? 0 : 20;
  });
  settle(b.rootfs());
  ASSERT_EQ(control, 0) << "the control's mount should have covered the host path";

  Spec spec = spec_of(b, [&](Spec& s) {
    s.mounts.push_back({"/shared/x", "bind", vol.path(), {"rbind"}});
    s.mounts.push_back({"/check", "bind", host.path(), {"rbind", "ro"}});
  });
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);

  // The attacker swaps as fast as it can while containers are created.
  std::atomic<bool> stop{false};
  std::thread attacker([&] {
    while (!stop) swap(b.rootfs());
  });
  const std::string host_inside = host.path() + "/marker";
  int created = 0, through_symlink = 0;
  for (int i = 0; i < 100; ++i) {
    Outcome o = run_contained(*p, [&](Facts& f) {
      f["check"] = read_all("/check/marker");
      f["via_symlink"] = read_all(host_inside);
    });
    ASSERT_EQ(o.failure, "") << "iteration " << i;
    if (o.rc != 0) continue;  // a refusal (the mount point vanished mid-swap) is fine too
    ++created;
    // The second mount's source is the host path: it must still be the host's.
    EXPECT_EQ(o.facts["check"], "host") << "iteration " << i;
    if (o.facts["via_symlink"] == "attacker") ++through_symlink;
  }
  stop = true;
  attacker.join();
  settle(b.rootfs());
  // Swaps that won landed the volume inside the rootfs, at rootfs/<host path>.
  std::printf("[ CVE-2021-30465 ] %d of 100 created, %d of them mounted through the swapped symlink\n", created,
              through_symlink);
  EXPECT_EQ(list_dir(host.path()), "marker");
  EXPECT_EQ(read_file(host.path() + "/marker"), "host");
}

// The same race one step later: the runtime finds the new mount again by
// name to apply "ro". Swapped for a symlink to another mount (/dev/shm),
// that lookup puts "ro" there and leaves the volume writable.
TEST_F(CVE_2021_30465, ASwapCannotMoveReadOnlyToAnotherMount) {
  test::Bundle b;
  test::TempDir vol("stack-rootfs-vol");
  std::ofstream(vol.path() + "/marker") << "attacker";
  fs::create_directories(b.rootfs() + "/shared/x");
  fs::create_directories(b.rootfs() + "/dev/shm");
  fs::create_directory_symlink("/dev/shm", b.rootfs() + "/shared/y");

  // Positive control: bind on the resolved fd (correct), swap, then the
  // remount by name lands on the other mount; the volume stays writable.
  const pid_t test_pid = ::getpid();
  int control = test::in_scratch_mount_ns([&] {
    if (::mount("tmpfs", (b.rootfs() + "/dev/shm").c_str(), "tmpfs", 0, "size=1m") != 0) return 10;
    if (bind_in_root_fd(b.rootfs(), "/shared/x", vol.path()) != 0) return 11;
    if (!in_mount_ns_of(test_pid, [&] { return swap(b.rootfs()); })) return 12;
    auto again = open_in_root(b.rootfs(), "/shared/x", CreateMode::kNone);
    if (!again) return 13;
    FdPath fp = fd_path(again->get());
    if (::mount(nullptr, fp.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) return 14;
    // The volume is now at shared/y (its directory was renamed), still rw.
    return rootfs_harness::try_write(b.rootfs() + "/shared/y/written") == "OK" ? 0 : 20;
  });
  settle(b.rootfs());
  ASSERT_EQ(control, 0) << "the control's remount should have missed the volume";
  ASSERT_EQ(read_file(vol.path() + "/written"), "x");
  fs::remove(vol.path() + "/written");

  Spec spec = spec_of(b, [&](Spec& s) { s.mounts.push_back({"/shared/x", "bind", vol.path(), {"rbind", "ro"}}); });
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  // The volume's mounts in the container's mountinfo, by the root field
  // (its path inside its filesystem ends with the temp dir's unique name).
  const std::string vol_name = "/" + fs::path(vol.path()).filename().string();
  auto vol_mount_options = [vol_name](Facts& f) {
    std::istringstream in(read_all("/proc/self/mountinfo"));
    std::string opts;
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      std::string id, parent, devno, root, mnt, options;
      fields >> id >> parent >> devno >> root >> mnt >> options;
      if (root.size() >= vol_name.size() && root.compare(root.size() - vol_name.size(), vol_name.size(), vol_name) == 0)
        opts += (opts.empty() ? "" : " ") + options.substr(0, 2);
    }
    f["vol"] = opts;
  };

  std::atomic<bool> stop{false};
  std::thread attacker([&] {
    while (!stop) swap(b.rootfs());
  });
  int created = 0, refused = 0;
  for (int i = 0; i < 100; ++i) {
    Outcome o = run_contained(*p, vol_mount_options);
    ASSERT_EQ(o.failure, "") << "iteration " << i;
    if (o.rc != 0) {
      ++refused;
      EXPECT_TRUE(std::string(o.err.what).find("changed while") != std::string::npos) << o.err.what;
      continue;
    }
    ++created;
    EXPECT_EQ(o.facts["vol"], "ro") << "iteration " << i;
  }
  stop = true;
  attacker.join();
  settle(b.rootfs());
  std::printf("[ CVE-2021-30465 ] %d of 100 created read-only, %d refused as raced\n", created, refused);
  EXPECT_EQ(list_dir(vol.path()), "marker");
}

}  // namespace
}  // namespace stack::rt
