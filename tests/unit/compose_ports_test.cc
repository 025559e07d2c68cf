#include <gtest/gtest.h>

#include "compose_test_util.h"
#include "orchestrator/compose/ports.h"

namespace stack::compose {
namespace {

PortSpec port(const std::string& s) {
  auto r = parse_port_short(s);
  EXPECT_TRUE(r) << s << ": " << (r ? "" : r.error().context);
  return r.value_or(PortSpec{});
}

TEST(ComposePorts, ContainerPortOnly) {
  auto p = port("3000");
  EXPECT_EQ(p.target, 3000);
  EXPECT_EQ(p.target_end, 3000);
  EXPECT_EQ(p.published, 0);
  EXPECT_TRUE(p.published_auto);
  EXPECT_EQ(p.protocol, "tcp");
  EXPECT_EQ(p.host_ip, "");
}

TEST(ComposePorts, HostAndContainer) {
  auto p = port("8080:80");
  EXPECT_EQ(p.published, 8080);
  EXPECT_EQ(p.published_end, 8080);
  EXPECT_EQ(p.target, 80);
  EXPECT_FALSE(p.published_auto);
}

TEST(ComposePorts, Udp) {
  auto p = port("53:53/udp");
  EXPECT_EQ(p.protocol, "udp");
  EXPECT_EQ(p.target, 53);
  EXPECT_EQ(port("5000/udp").protocol, "udp");
}

TEST(ComposePorts, HostIpv4) {
  auto p = port("127.0.0.1:8080:80");
  EXPECT_EQ(p.host_ip, "127.0.0.1");
  EXPECT_EQ(p.published, 8080);
  EXPECT_EQ(p.target, 80);
}

TEST(ComposePorts, HostIpWithoutHostPortIsEphemeral) {
  auto p = port("127.0.0.1::80");
  EXPECT_EQ(p.host_ip, "127.0.0.1");
  EXPECT_EQ(p.published, 0);
  EXPECT_TRUE(p.published_auto);
}

TEST(ComposePorts, Ipv6InBrackets) {
  auto p = port("[::1]:8080:80");
  EXPECT_EQ(p.host_ip, "::1");
  EXPECT_EQ(p.published, 8080);
  EXPECT_EQ(p.target, 80);
  EXPECT_EQ(port_to_string(p), "[::1]:8080:80");
}

TEST(ComposePorts, Ipv6WithoutBracketsSplitsAsDockerDoes) {
  auto p = port("::1:8080:80");  // the last two fields are the ports
  EXPECT_EQ(p.host_ip, "::1");
  EXPECT_EQ(p.published, 8080);
  EXPECT_EQ(p.target, 80);
  EXPECT_EQ(port_to_string(p), "[::1]:8080:80");
  auto q = port("fd00::5:9000-9001:80-81/udp");
  EXPECT_EQ(q.host_ip, "fd00::5");
  EXPECT_EQ(q.published_end, 9001);
  EXPECT_EQ(q.protocol, "udp");
  auto r = port("[::]:8443:443");
  EXPECT_EQ(r.host_ip, "::");
  EXPECT_EQ(port("0:0::1:8080:80").host_ip, "::1");  // one spelling per address
  EXPECT_EQ(port("[0::]:8080:80").host_ip, "::");
}

TEST(ComposePorts, Ranges) {
  auto p = port("9000-9002:9000-9002");
  EXPECT_EQ(p.published, 9000);
  EXPECT_EQ(p.published_end, 9002);
  EXPECT_EQ(p.target, 9000);
  EXPECT_EQ(p.target_end, 9002);
  auto q = port("3000-3005");
  EXPECT_EQ(q.target_end, 3005);
  EXPECT_TRUE(q.published_auto);
  auto r = port("8000-8010:80");  // one host port picked from the range
  EXPECT_EQ(r.published, 8000);
  EXPECT_EQ(r.published_end, 8010);
  EXPECT_EQ(r.target_end, 80);
}

TEST(ComposePorts, BadPortsNameTheValue) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"70000", "\"70000\""},       {"0:80", "not in 1-65535"},      {"80:abc", "\"abc\""},
      {"80/sctp", "sctp"},          {"9000-9002:80-81", "ranges differ"}, {"9005-9000:80", "ends before"},
      {"1:2:3:4", "IPv6"},          {"", "expected a port"},         {"host:80:80", "not an IPv4"},
      {"[nothost]:80:80", "\"nothost\" is not an IPv6 address"}, {"::zz:80:80", "\"::zz\" is not an IPv6"},
  };
  for (auto& c : cases) {
    auto r = parse_port_short(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().context.find(c.expect), std::string::npos) << c.text << " -> " << r.error().context;
  }
}

TEST(ComposePorts, AllFormsThroughTheLoader) {
  auto r = cz::load_yaml(R"(
services:
  web:
    image: nginx
    ports:
      - 3000
      - "8080:80"
      - 127.0.0.1:8443:443/tcp
      - target: 53
        published: "5353"
        protocol: udp
        host_ip: 0.0.0.0
        mode: host
        app_protocol: dns
        name: dns
      - target: 9090
)");
  ASSERT_TRUE(r) << r.error().message();
  auto& ports = r->project.services.at("web").ports;
  ASSERT_EQ(ports.size(), 5u);
  EXPECT_EQ(ports[0].target, 3000);
  EXPECT_TRUE(ports[0].published_auto);
  EXPECT_EQ(ports[1].published, 8080);
  EXPECT_EQ(ports[2].host_ip, "127.0.0.1");
  EXPECT_EQ(ports[3].protocol, "udp");
  EXPECT_EQ(ports[3].published, 5353);
  EXPECT_EQ(ports[3].mode, "host");
  EXPECT_EQ(ports[3].app_protocol, "dns");
  EXPECT_EQ(ports[3].name, "dns");
  EXPECT_TRUE(ports[4].published_auto);
}

TEST(ComposePorts, LoaderRejectsBadPortWithLocation) {
  auto e = cz::load_error("services:\n  web:\n    image: nginx\n    ports:\n      - \"8080:70000\"\n");
  EXPECT_EQ(e, "stack.yaml:5:9: services.web.ports[0]: invalid port \"8080:70000\": 70000 is not in 1-65535");
  auto e2 = cz::load_error("services:\n  web:\n    image: nginx\n    ports:\n      - target: 99999\n");
  EXPECT_NE(e2.find("services.web.ports[0].target: invalid port \"99999\""), std::string::npos) << e2;
  auto e3 = cz::load_error("services:\n  web:\n    image: nginx\n    ports:\n      - {target: 80, host_ip: \"[::1]\"}\n");
  EXPECT_NE(e3.find("stack.yaml:5:31: services.web.ports[0].host_ip: host address \"[::1]\" is not an IPv6 address"),
            std::string::npos)
      << e3;
}

}  // namespace
}  // namespace stack::compose
