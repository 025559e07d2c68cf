// Network fields of a service beyond networks and ports, end to end through
// `stack up`, as the container sees them.
#include <gtest/gtest.h>

#include "tests/integration/stack_cli_fixture.h"

namespace stack::test {
namespace {

using StackNetworkFields = StackdFixture;

// mac_address: the service-level form lands on the first network (front,
// by priority: eth0), the per-network form on its own interface; a
// replacement keeps both.
TEST_F(StackNetworkFields, MacAddressesAreTheContainersInterfaces) {
  const std::string file = write_stack_file("mac", R"yaml(name: mac
services:
  fixed:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    mac_address: 02:42:0A:00:00:2A
    networks:
      front: {priority: 10}
      back:
        mac_address: 02:42:0a:00:00:2b
  plain:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    networks: [front]
networks:
  front: {}
  back: {}
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("mac_address"), std::string::npos) << "not an ignored field any more: " << up.err;
  auto addresses = [&](const std::string& service) {
    return stack({"exec", "-T", "-f", file, service, "cat", "/sys/class/net/eth0/address",
                  "/sys/class/net/eth1/address"})
        .out;
  };
  EXPECT_EQ(addresses("fixed"), "02:42:0a:00:00:2a\n02:42:0a:00:00:2b\n");
  const std::string plain = stack({"exec", "-T", "-f", file, "plain", "cat", "/sys/class/net/eth0/address"}).out;
  EXPECT_EQ(plain.size(), 18u) << plain;
  EXPECT_EQ(plain.find("02:42:0a:00:00:2"), std::string::npos) << "the kernel's own: " << plain;
  // The fixed one is reachable by name from its neighbour on front.
  auto ping = stack({"exec", "-T", "-f", file, "plain", "ping", "-c", "1", "-W", "5", "fixed"});
  EXPECT_EQ(ping.status, 0) << ping.out << ping.err;

  // A restart makes a new incarnation with the same address.
  auto restart = stack({"-f", file, "restart", "fixed"});
  ASSERT_EQ(restart.status, 0) << restart.err;
  EXPECT_EQ(addresses("fixed"), "02:42:0a:00:00:2a\n02:42:0a:00:00:2b\n");

  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
}

// links: the alias resolves to the linked service from the linking one, and
// the link orders the start as a dependency.
TEST_F(StackNetworkFields, ALinkAliasResolvesToItsService) {
  const std::string file = write_stack_file("links", R"yaml(name: links
services:
  app:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
    links: ["db:database"]
  db:
    image: stack-demo/busybox:1
    command: [sleep, "1000"]
)yaml");
  auto up = stack({"up", "-d", "--wait", "-f", file});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(up.err.find("links"), std::string::npos) << "not an ignored field any more: " << up.err;
  const auto list = ps({"-f", file});
  const std::string db_ip = replica(list, "links-db-1").value("ip", "");
  ASSERT_NE(db_ip, "") << list.dump();
  auto lookup = stack({"exec", "-T", "-f", file, "app", "nslookup", "database"});
  EXPECT_EQ(lookup.status, 0) << lookup.out << lookup.err;
  EXPECT_NE(lookup.out.find(db_ip), std::string::npos) << lookup.out;
  auto down = stack({"down", "-f", file});
  EXPECT_EQ(down.status, 0) << down.err;
}

}  // namespace
}  // namespace stack::test
