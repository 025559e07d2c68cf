// Secrets and configs end to end: `stack up` with a file, a variable and
// inline content, then what a process in the replica sees (bytes, owner,
// mode, read-only), where the bytes are on the host (a tmpfs of the
// replica's, not its writable layer), that `up` after the file changed
// replaces the replica using it (and only it), and that `down` leaves no
// mount behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;

// Whether any file under `dir` holds `needle`.
bool tree_holds(const std::string& dir, const std::string& needle) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path());
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) return true;
  }
  return false;
}

// The filesystem type mounted at `point` ("" = not a mount point).
std::string fstype_at(const std::string& point) {
  std::ifstream m("/proc/self/mountinfo");
  std::string type;
  for (std::string line; std::getline(m, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root_in_fs, mp, word;
    f >> id >> parent >> dev >> root_in_fs >> mp;
    if (mp != point) continue;
    while (f >> word && word != "-") {
    }
    f >> type;
  }
  return type;
}

using StackSecrets = StackdFixture;

TEST_F(StackSecrets, SecretsAndConfigsAreReadOnlyFilesOwnedAsAskedAndFollowTheirSource) {
  const std::string secret_file = dir_.path() + "/db_password.txt";
  std::ofstream(secret_file) << "s3cret-one";
  const std::string file = write_stack_file("sec", R"yaml(name: sec
services:
  app:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    read_only: true
    secrets:
      - db_password
      - source: api_key
        target: api.key
        uid: "33"
        gid: "44"
        mode: 0400
    configs:
      - source: app_conf
        target: /etc/app/app.conf
  other:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
secrets:
  db_password:
    file: ./db_password.txt
  api_key:
    environment: SEC_TEST_API_KEY
configs:
  app_conf:
    content: |
      listen=8080
)yaml");
  ::setenv("SEC_TEST_API_KEY", "key-from-env", 1);
  const HostSnapshot before = snapshot();
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("not supported"), std::string::npos) << up.err;

  auto in_app = [&](const std::string& script) { return stack({"exec", "-T", "-f", file, "app", "sh", "-c", script}); };
  EXPECT_EQ(in_app("cat /run/secrets/db_password").out, "s3cret-one");
  EXPECT_EQ(in_app("cat /run/secrets/api.key").out, "key-from-env");
  EXPECT_EQ(in_app("cat /etc/app/app.conf").out, "listen=8080\n");
  EXPECT_EQ(in_app("stat -c '%a %u %g' /run/secrets/db_password /run/secrets/api.key /etc/app/app.conf").out,
            "444 0 0\n400 33 44\n444 0 0\n");
  auto write = in_app("echo changed > /run/secrets/db_password");
  EXPECT_NE(write.status, 0) << "a secret is read-only";
  EXPECT_EQ(in_app("cat /run/secrets/db_password").out, "s3cret-one");
  EXPECT_EQ(stack({"exec", "-T", "-f", file, "other", "ls", "/run/secrets"}).status, 1) << "other uses none";

  // On the host: a tmpfs of the replica's own, nothing in its layer.
  const auto list = ps({"-f", file});
  const std::string app_id = replica(list, "sec-app-1").value("container_id", "");
  const std::string other_id = replica(list, "sec-other-1").value("container_id", "");
  ASSERT_FALSE(app_id.empty()) << list.dump();
  const std::string cdir = root() + "/containers/" + app_id;
  EXPECT_EQ(fstype_at(cdir + "/files"), "tmpfs");
  EXPECT_FALSE(tree_holds(cdir + "/upper", "s3cret-one"));
  EXPECT_FALSE(tree_holds(cdir + "/upper", "key-from-env"));
  auto inspect = stack({"inspect", "-f", file});
  EXPECT_EQ(inspect.out.find("key-from-env"), std::string::npos);
  EXPECT_EQ(inspect.out.find("a2V5LWZyb20tZW52"), std::string::npos) << "not even as base64";

  // A changed source: `up` replaces the replica that uses it, not the other.
  std::ofstream(secret_file) << "s3cret-two";
  auto again = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(again.status, 0) << again.err;
  const auto after = ps({"-f", file});
  EXPECT_NE(replica(after, "sec-app-1").value("container_id", ""), app_id);
  EXPECT_EQ(replica(after, "sec-other-1").value("container_id", ""), other_id);
  EXPECT_EQ(in_app("cat /run/secrets/db_password").out, "s3cret-two");
  EXPECT_FALSE(fs::exists(cdir)) << "the old replica's files went with it";

  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
  EXPECT_EQ(snapshot(), before);
  ::unsetenv("SEC_TEST_API_KEY");
}

TEST_F(StackSecrets, AMissingSourceIsRefusedBeforeAnythingStarts) {
  const std::string file = write_stack_file("nosec", R"yaml(name: nosec
services:
  app:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    secrets: [db_password]
secrets:
  db_password:
    file: ./not-there.txt
)yaml");
  auto up = stack({"up", "-d", "-f", file});
  EXPECT_NE(up.status, 0);
  EXPECT_NE(up.err.find("nosec.yaml:9:11: secrets.db_password.file: " + dir_.path() + "/not-there.txt: No such file"),
            std::string::npos)
      << up.err;
  EXPECT_TRUE(ps({"-p", "nosec"}).empty()) << "nothing was created";
  // Once it is there `up` works; `down` needs only names, so the file
  // deleted since does not stop it.
  std::ofstream(dir_.path() + "/not-there.txt") << "now-here";
  auto up2 = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up2.status, 0) << up2.err;
  fs::remove(dir_.path() + "/not-there.txt");
  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
  EXPECT_TRUE(ps({"-p", "nosec"}).empty());
}

}  // namespace
}  // namespace stack::test
