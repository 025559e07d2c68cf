// CVE regression tests (security issue 10): device nodes the runtime uses as
// sources, taken from a /dev the image controls.
//   CVE-2025-31133  masked paths are covered with /dev/null; an image whose
//                   /dev/null is a symlink (to a host file, to a procfs file
//                   such as core_pattern) or a plain file turns masking into
//                   exposing that file, writable, at the masked path;
//   CVE-2025-52565  the console: a runtime that binds the pty by name, or
//                   onto /dev/console by name, follows the image's symlinks.
// The image's /dev is in play when the spec mounts no tmpfs there.
#include <sys/socket.h>

#include "runtime/kernel/terminal.h"
#include "tests/support/cve_fixture.h"

namespace stack::rt {
namespace {

using namespace rootfs_harness;
using test::in_scratch_mount_ns;
using test::read_file;

// The spec without its /dev tmpfs: the image's /dev is the container's.
void use_image_dev(Spec& s) {
  std::erase_if(s.mounts, [](const Mount& m) { return m.destination == "/dev"; });
}

// ---------------------------------------------------------- CVE-2025-31133

class CVE_2025_31133 : public CveTest {};

TEST_F(CVE_2025_31133, AMaskedPathIsNeverCoveredWithWhatTheImagesDevNullPointsAt) {
  test::Bundle b;
  test::TempDir host("stack-rootfs-secret");
  const std::string secret = host.path() + "/shadow";
  std::ofstream(secret) << "host secret";
  fs::create_directories(b.rootfs() + "/srv");
  std::ofstream(b.rootfs() + "/srv/token") << "token";
  fs::create_directory_symlink(secret, b.rootfs() + "/dev/null");

  // Positive control: masking by name binds whatever /dev/null leads to.
  // The absolute symlink is read against the host's root, and the masked
  // path now shows (and writes through to) the host's file.
  int control = in_scratch_mount_ns([&] {
    const std::string masked = b.rootfs() + "/srv/token";
    if (::mount((b.rootfs() + "/dev/null").c_str(), masked.c_str(), nullptr, MS_BIND, nullptr) != 0) return 10;
    return read_file(masked) == "host secret" ? 0 : 20;
  });
  ASSERT_EQ(control, 0) << "the control's mask should have exposed the host file";

  // Ours, for each kind of impostor: the symlink above (its in-root
  // counterpart present, so the lookup succeeds), a symlink to a procfs
  // file the attacker wants writable, and a plain file.
  fs::create_directories(fs::path(b.rootfs() + secret).parent_path());
  std::ofstream(b.rootfs() + secret) << "image file";
  const std::vector<std::pair<std::string, std::function<void()>>> impostors = {
      {"symlink to a host path", [] {}},
      {"symlink to core_pattern",
       [&] {
         fs::remove(b.rootfs() + "/dev/null");
         fs::create_symlink("/proc/sys/kernel/core_pattern", b.rootfs() + "/dev/null");
       }},
      {"plain file",
       [&] {
         fs::remove(b.rootfs() + "/dev/null");
         std::ofstream(b.rootfs() + "/dev/null") << "";
       }},
  };
  const std::string core_pattern = read_file("/proc/sys/kernel/core_pattern");
  for (auto& [name, make] : impostors) {
    make();
    Spec spec = spec_of(b, [](Spec& s) {
      use_image_dev(s);
      s.linux.masked_paths.push_back("/srv/token");
    });
    auto p = plan(spec, b.rootfs());
    ASSERT_TRUE(p);
    Outcome o = run_contained(*p, [](Facts&) {});
    EXPECT_EQ(o.rc, ENODEV) << name << ": " << o.err.what;
    EXPECT_TRUE(test::contains(o.err.what, "/dev/null is not the null device; cannot mask"))
        << name << ": " << o.err.what;
  }
  EXPECT_EQ(read_file(secret), "host secret");
  EXPECT_EQ(read_file(b.rootfs() + "/srv/token"), "token");
  EXPECT_EQ(read_file("/proc/sys/kernel/core_pattern"), core_pattern);
}

TEST_F(CVE_2025_31133, TheUserSeesWhyMaskingWasRefused) {
  test::Bundle b;
  fs::create_symlink("/proc/sys/kernel/core_pattern", b.rootfs() + "/dev/null");
  auto& mounts = b.config["mounts"];
  for (size_t i = 0; i < mounts.size(); ++i)
    if (mounts[i]["destination"] == "/dev") mounts.erase(i--);
  test::CmdResult r = runtime_run(b, {"true"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("/dev/null is not the null device; cannot mask /proc/"), std::string::npos) << r.err;
}

// ---------------------------------------------------------- CVE-2025-52565

class CVE_2025_52565 : public CveTest {
 protected:
  // A socket pair standing in for --console-socket: the container end is
  // inherited by the harness's child, ours receives the pty master.
  void SetUp() override {
    CveTest::SetUp();
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock_), 0);
  }
  void TearDown() override {
    ::close(sock_[0]);
    ::close(sock_[1]);
    CveTest::TearDown();
  }
  // The probe: what init does with process.terminal, then what stdin is.
  Probe console_probe() {
    const int fd = sock_[1];
    return [fd](Facts& f) {
      ChildError err;
      int rc = setup_console(fd, 24, 80, &err);
      f["rc"] = std::to_string(rc);
      f["err"] = err.what;
      struct stat st {};
      f["stdin"] = ::fstat(0, &st) == 0 && S_ISCHR(st.st_mode) ? "chr " + std::to_string(major(st.st_rdev)) : "other";
      f["console"] = describe("/dev/console");
    };
  }
  int sock_[2] = {-1, -1};
};

TEST_F(CVE_2025_52565, TheConsoleNeverLandsOnWhatTheImagesDevConsolePointsAt) {
  test::Bundle b;
  test::TempDir host("stack-rootfs-console");
  const std::string target = host.path() + "/console";
  std::ofstream(target) << "host file";
  fs::create_symlink(target, b.rootfs() + "/dev/console");
  fs::create_directories(b.rootfs() + "/evil-pts");
  fs::create_directory_symlink("/evil-pts", b.rootfs() + "/dev/pts");

  // Positive control: binding the pty slave by name onto the rootfs's
  // /dev/console follows the image's symlink; the host file becomes the pty.
  int control = in_scratch_mount_ns([&] {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) return 10;
    const char* slave = ::ptsname(master);
    if (!slave) return 11;
    if (::mount(slave, (b.rootfs() + "/dev/console").c_str(), nullptr, MS_BIND, nullptr) != 0) return 12;
    struct stat st {};
    return ::stat(target.c_str(), &st) == 0 && S_ISCHR(st.st_mode) ? 0 : 20;
  });
  ASSERT_EQ(control, 0) << "the control's console bind should have covered the host file";

  // Ours: the pty comes from the devpts instance (mounted, through the
  // in-root symlink, at /evil-pts), the slave from the master's fd, and
  // nothing is bound by name.
  Spec spec = spec_of(b, use_image_dev);
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  Outcome o = run_ok(*p, console_probe());
  EXPECT_EQ(o.facts["rc"], "0") << o.facts["err"];
  EXPECT_EQ(o.facts["stdin"], "chr 136");
  EXPECT_EQ(o.facts["console"], "lnk 0777 0:0 -> " + target);
  auto master = receive_pty_master(sock_[0]);
  ASSERT_TRUE(master) << master.error().message();
  struct stat st {};
  ASSERT_EQ(::fstat(master->get(), &st), 0);
  EXPECT_EQ(st.st_rdev, makedev(5, 2));
  EXPECT_EQ(read_file(target), "host file");
  EXPECT_TRUE(fs::is_regular_file(target));
}

TEST_F(CVE_2025_52565, AnImpostorPtmxIsNotHandedToTheCaller) {
  test::Bundle b;
  std::ofstream(b.rootfs() + "/etc/fake-ptmx") << "not a pty";
  fs::create_symlink("/etc/fake-ptmx", b.rootfs() + "/dev/ptmx");
  // No devpts mount: /dev/ptmx stays the image's.
  Spec spec = spec_of(b, [](Spec& s) {
    use_image_dev(s);
    std::erase_if(s.mounts, [](const Mount& m) { return m.destination == "/dev/pts"; });
  });
  auto p = plan(spec, b.rootfs());
  ASSERT_TRUE(p);
  // Positive control: what opening /dev/ptmx by name reaches in there.
  Probe console = console_probe();
  Outcome o = run_ok(*p, [&](Facts& f) {
    f["by_name"] = read_all("/dev/ptmx");
    console(f);
  });
  EXPECT_EQ(o.facts["by_name"], "not a pty");
  EXPECT_EQ(o.facts["rc"], std::to_string(ENODEV));
  EXPECT_EQ(o.facts["err"], "/dev/ptmx is not the pty multiplexer (char 5:2)");
  EXPECT_EQ(read_file(b.rootfs() + "/etc/fake-ptmx"), "not a pty");
}

}  // namespace
}  // namespace stack::rt
