// CVE-2019-5736 through the path an image reaches with no operator action:
// stackd's exec health check. The image's health check command is
// "#!/proc/self/exe"; its main process (stack-probe grab-exe) holds whatever
// binary that makes the kernel run and writes through it once it is free.
// stackd runs every `stack-runtime exec` through a read-only clone of its
// mount (or a sealed memfd), which the container cannot write, and the
// host's binary stays as it was. The unprotected case (a host file entering the container gets
// overwritten) is shown in tests/privileged/cve_runtime_escapes_test.cc.
#include <sys/stat.h>

#include <fstream>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

class Cve20195736 : public StackdFixture {};

TEST_F(Cve20195736, ExecHealthCheckCannotOverwriteTheRuntimeBinary) {
  // The attacker's image: busybox, the probe, and the evil "program".
  Bundle image;
  {
    std::ofstream(image.rootfs() + "/bin/evil") << "#!/proc/self/exe --version\n";
  }
  ::chmod((image.rootfs() + "/bin/evil").c_str(), 0755);
  const std::string tar = dir_.path() + "/evil.tar";
  ASSERT_EQ(run({"tar", "--numeric-owner", "-C", image.rootfs(), "-cf", tar, "."}).status, 0);
  auto imported = stack({"image", "import", "--change", R"(CMD ["/bin/probe", "grab-exe", "/report"])", tar,
                         "cve/evil:1"});
  ASSERT_EQ(imported.status, 0) << imported.err;

  const std::string file = dir_.path() + "/evil.yaml";
  std::ofstream(file) << "services:\n"
                         "  victim:\n"
                         "    image: cve/evil:1\n"
                         "    healthcheck:\n"
                         "      test: [\"CMD\", \"/bin/evil\"]\n"
                         "      interval: 1s\n"
                         "      retries: 1000\n";
  const std::string runtime = binary("stack-runtime");
  const std::string before = read_file(runtime);
  auto up = stack({"up", "-d", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;

  std::string report, err;
  ASSERT_TRUE(wait_for([&] {
    auto r = stack({"exec", "-T", "-f", file, "victim", "cat", "/report"});
    report = r.out;
    err = r.err;
    return report.find("write ") != std::string::npos;
  })) << report << err << stack({"ps", "-a", "-f", file}).out << stack({"-f", file, "logs"}).out;
  EXPECT_NE(report.find("captured "), std::string::npos) << report;
  EXPECT_TRUE(report.find("write EROFS") != std::string::npos || report.find("write EPERM") != std::string::npos)
      << report;
  EXPECT_TRUE(read_file(runtime) == before) << "the host's stack-runtime binary changed";
  EXPECT_EQ(stack({"down", "-f", file}).status, 0);
}

}  // namespace
}  // namespace stack::test
