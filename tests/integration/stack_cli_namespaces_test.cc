// Namespace modes, group_add, annotations and label_file end to end: a
// replica with pid/ipc/uts/cgroup host is in the host's namespaces (the
// namespace links a process inside reads equal the test's own), one without
// is not; its supplementary groups and its bundle's annotations are as the
// file says.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

std::string own_ns(const std::string& type) {
  char buf[128];
  ssize_t n = ::readlink(("/proc/self/ns/" + type).c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

class StackNamespaces : public StackdFixture {
 protected:
  std::string file;
  // What `script` prints inside the service's first replica.
  std::string in(const std::string& svc, const std::string& script) {
    return stack({"exec", "-T", "-f", file, svc, "sh", "-c", script}).out;
  }
};

TEST_F(StackNamespaces, HostModesJoinTheHostsNamespacesAndGroupsAndAnnotationsApply) {
  std::ofstream(dir_.path() + "/team.labels") << "com.example.team=shop\n";
  file = write_stack_file("nsm", R"yaml(name: nsm
services:
  hostns:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    pid: host
    ipc: host
    uts: host
    cgroup: host
    group_add: [nobody, "4242"]
    annotations: {com.example.note: hello}
    label_file: ./team.labels
  own:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    ipc: shareable
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_TRUE(up.err.empty()) << "no field is ignored: " << up.err;
  for (const std::string type : {"pid", "ipc", "uts", "cgroup"}) {
    const std::string host = own_ns(type);
    ASSERT_FALSE(host.empty()) << type;
    EXPECT_EQ(in("hostns", "readlink /proc/self/ns/" + type), host + "\n") << type;
    EXPECT_NE(in("own", "readlink /proc/self/ns/" + type), host + "\n") << type << ": the control";
  }
  char hostname[256] = {};
  ::gethostname(hostname, sizeof hostname - 1);
  EXPECT_EQ(in("hostns", "hostname"), std::string(hostname) + "\n");
  EXPECT_EQ(in("own", "hostname"), "nsm-own-1\n");
  EXPECT_EQ(in("hostns", "id -G"), "0 4242 65534\n");  // the kernel sorts them
  EXPECT_EQ(in("own", "id -G"), "0\n");

  const auto list = ps({"-f", file});
  const std::string id = replica(list, "nsm-hostns-1").value("container_id", "");
  std::ifstream bundle(root() + "/containers/" + id + "/config.json");
  auto spec = nlohmann::json::parse(bundle, nullptr, false);
  ASSERT_FALSE(spec.is_discarded()) << id;
  EXPECT_EQ(spec["annotations"].value("com.example.note", ""), "hello");
  EXPECT_EQ(spec["annotations"].value("com.example.team", ""), "shop") << "from the label file";

  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
}

// network_mode / pid / ipc "service:X": the replica is in X's namespaces
// (its network: X's address and X's /etc/hosts; its pid namespace: X's
// processes), started after X; a third service without joins is not.
TEST_F(StackNamespaces, ServiceModesJoinAnotherServicesNamespaces) {
  file = write_stack_file("join", R"yaml(name: join
services:
  side:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    network_mode: service:main
    pid: service:main
    ipc: container:join-main
  main:
    image: stack-demo/busybox:1
    container_name: join-main
    command: [sleep, "1001"]
  alone:
    image: stack-demo/busybox:1
    command: [sleep, "1002"]
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_TRUE(up.err.empty()) << "no field is ignored: " << up.err;
  for (const std::string type : {"net", "pid", "ipc"}) {
    const std::string main_ns = in("main", "readlink /proc/self/ns/" + type);
    ASSERT_FALSE(main_ns.empty()) << type;
    EXPECT_EQ(in("side", "readlink /proc/self/ns/" + type), main_ns) << type;
    EXPECT_NE(in("alone", "readlink /proc/self/ns/" + type), main_ns) << type << ": the control";
  }
  // What a user sees: main's sleep among side's processes, main's address.
  EXPECT_NE(in("side", "ps -o args").find("sleep 1001"), std::string::npos) << in("side", "ps -o args");
  EXPECT_EQ(in("alone", "ps -o args").find("sleep 1001"), std::string::npos) << in("alone", "ps -o args");
  const auto list = ps({"-f", file});
  const std::string main_ip = replica(list, "join-main").value("ip", "");
  ASSERT_FALSE(main_ip.empty()) << list.dump();
  EXPECT_NE(in("side", "ip -4 addr show eth0").find(main_ip + "/"), std::string::npos);
  EXPECT_NE(in("side", "cat /etc/hosts").find(main_ip), std::string::npos) << in("side", "cat /etc/hosts");

  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
}

}  // namespace
}  // namespace stack::test
