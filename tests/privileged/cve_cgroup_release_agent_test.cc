// CVE regression test (security issue 10), CVE-2022-0492: a process that can
// mount a cgroup v1 hierarchy writable sets release_agent (a program the
// kernel runs as root on the host) and notify_on_release, and escapes when
// the cgroup empties. A default container must not get there: no
// CAP_SYS_ADMIN, seccomp refusing new user namespaces, and a read-only
// /sys/fs/cgroup; and even without seccomp, a user namespace it makes
// (inside its own cgroup namespace) must not reach a writable release_agent.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "tests/support/cve_fixture.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;

class CVE_2022_0492 : public RuntimeTest {
 protected:
  // Every host hierarchy's release_agent, to compare before and after.
  static std::map<std::string, std::string> host_release_agents() {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (auto& h : fs::directory_iterator("/sys/fs/cgroup", ec))
      if (fs::exists(h.path() / "release_agent")) out[h.path()] = read_file(h.path() / "release_agent");
    return out;
  }
};

// What the container tries, one marker line per step.
const char* const kAttack =
    "mkdir -p /tmp/cg\n"
    "mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null && echo MOUNTED memory\n"
    "mount -t cgroup -o none,name=stack_cve cgroup /tmp/cg 2>/dev/null && echo MOUNTED named\n"
    "echo release_agent=$(probe write /sys/fs/cgroup/release_agent)\n"
    "echo memory_release_agent=$(probe write /sys/fs/cgroup/memory/release_agent)\n"
    "echo notify_on_release=$(probe write /sys/fs/cgroup/memory/notify_on_release)\n"
    "unshare -r -m sh -c 'mount -t cgroup -o memory cgroup /tmp/cg && echo MOUNTED userns && "
    "for f in /tmp/cg/release_agent /tmp/cg/notify_on_release; do echo /x > $f && echo WROTE $f; done' "
    "2>/dev/null\n"
    "echo unshare=$?\n";

TEST_F(CVE_2022_0492, ADefaultContainerCannotReachAWritableReleaseAgent) {
  STACK_REQUIRE_ROOT();
  if (!fs::exists("/sys/fs/cgroup/memory/release_agent")) GTEST_SKIP() << "no cgroup v1 memory hierarchy here";

  // Positive control: with a writable v1 mount (a scratch named hierarchy,
  // in a scratch mount namespace) both files take what is written.
  TempDir mnt("stack-cve-cgroup");
  int control = in_scratch_mount_ns([&] {
    const std::string m = mnt.path();
    if (::mount("cgroup", m.c_str(), "cgroup", 0, "none,name=stack_cve_0492") != 0) return 10;
    int rc = 0;
    if (::mkdir((m + "/victim").c_str(), 0755) != 0) rc = 11;
    if (rc == 0) {
      std::ofstream(m + "/release_agent") << "/bin/true";
      std::ofstream(m + "/victim/notify_on_release") << "1";
      rc = read_file(m + "/release_agent") == "/bin/true\n" && read_file(m + "/victim/notify_on_release") == "1\n"
               ? 0
               : 20;
    }
    // Leave no hierarchy behind: no child cgroup, no mount (the scratch
    // namespace goes with us anyway).
    ::rmdir((m + "/victim").c_str());
    std::ofstream(m + "/release_agent") << "";
    ::umount2(m.c_str(), MNT_DETACH);
    return rc;
  });
  ASSERT_EQ(control, 0) << "a writable v1 mount should take release_agent and notify_on_release";

  const auto before = host_release_agents();
  for (bool seccomp : {true, false}) {
    Bundle b;
    if (!seccomp) b.config["linux"].erase("seccomp");
    CmdResult r = run_in(b, {"sh", "-c", kAttack});
    SCOPED_TRACE(seccomp ? "default container" : "default container without seccomp");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.find("MOUNTED memory"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("MOUNTED named"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("WROTE"), std::string::npos) << r.out;
    // The container's /sys/fs/cgroup is read-only, top and hierarchies.
    EXPECT_NE(r.out.find("release_agent=EROFS\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("memory_release_agent=EROFS\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("notify_on_release=EROFS\n"), std::string::npos) << r.out;
    if (seccomp) {
      EXPECT_NE(r.out.find("unshare=1"), std::string::npos) << "seccomp refuses the user namespace\n" << r.out;
    }
  }
  EXPECT_EQ(host_release_agents(), before);
}

}  // namespace
}  // namespace stack::test
