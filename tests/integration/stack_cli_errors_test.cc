// Bad input to `stack` against a real stackd: each class gives one line on
// stderr, a non-zero exit, and changes nothing (no stack, link, rule or mount).
#include <arpa/inet.h>
#include <netinet/in.h>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

class StackCliErrors : public StackdFixture {
 protected:
  std::string file(const std::string& name, const std::string& yaml) {
    std::string p = dir_.path() + "/" + name;
    std::ofstream(p) << yaml;
    return p;
  }

  // Runs `args`, expects a one-line error containing `needle` and no change.
  void expect_refused(const std::vector<std::string>& args, const std::string& needle) {
    auto before_stacks = stack({"ls", "-q"}).out;
    auto before = snapshot();
    auto r = stack(args);
    EXPECT_NE(r.status, 0) << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("stack: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "wanted '" << needle << "' in: " << r.err;
    EXPECT_EQ(stack({"ls", "-q"}).out, before_stacks);
    EXPECT_EQ(snapshot(), before);
  }
};

const char* kGood = "services:\n  a:\n    image: stack-demo/busybox:1\n    command: [sleep, '1000']\n";

TEST_F(StackCliErrors, BadYaml) {
  expect_refused({"up", "-d", file("bad.yaml", "services:\n  a: [\n")}, "bad.yaml:");
}

TEST_F(StackCliErrors, UnknownField) {
  expect_refused({"up", "-d", file("unknown.yaml", "services:\n  a:\n    image: x\n    imgae: y\n")}, "imgae");
}

TEST_F(StackCliErrors, BadPort) {
  expect_refused({"up", "-d", file("port.yaml", "services:\n  a:\n    image: stack-demo/busybox:1\n"
                                                "    ports: ['99999:80']\n")},
                 "port");
}

TEST_F(StackCliErrors, DependencyCycle) {
  expect_refused({"up", "-d", file("cycle.yaml", "services:\n  a:\n    image: x\n    depends_on: [b]\n"
                                                 "  b:\n    image: x\n    depends_on: [a]\n")},
                 "cycle");
}

TEST_F(StackCliErrors, MissingImage) {
  expect_refused({"up", "-d", file("missing.yaml", "services:\n  a:\n    image: 127.0.0.1:1/nothing/here:1\n")},
                 "nothing/here");
}

TEST_F(StackCliErrors, TakenPort) {
  // A host process holds the port.
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(18391);
  int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(s, 1), 0);
  expect_refused({"up", "-d", file("taken.yaml", std::string(kGood) + "    ports: ['18391:80']\n")}, "18391");
  ::close(s);
}

TEST_F(StackCliErrors, UnknownServiceInScale) {
  auto up = stack({"up", "-d", file("good.yaml", kGood)});
  ASSERT_EQ(up.status, 0) << up.err;
  expect_refused({"scale", "-f", dir_.path() + "/good.yaml", "nosuch=2"}, "nosuch");
  expect_refused({"scale", "-f", dir_.path() + "/good.yaml", "a=-1"}, "a=-1");
}

TEST_F(StackCliErrors, BadFlag) { expect_refused({"up", "--no-such-flag"}, "no-such-flag"); }

TEST_F(StackCliErrors, UnknownStack) { expect_refused({"-p", "nosuchstack", "down"}, "nosuchstack"); }

}  // namespace
}  // namespace stack::test
