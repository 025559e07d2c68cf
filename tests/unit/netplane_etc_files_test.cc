// A container's /etc/hosts, /etc/resolv.conf, /etc/hostname (etc_files.h):
// the text Docker would write, adapted to our resolver, and the writers.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "netplane/etc_files.h"
#include "tests/support/bundle.h"

namespace {

using namespace stack::net;

constexpr const char* kLocal =
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(EtcHosts, LocalhostExtraHostsThenOwnAddress) {
  HostsSpec spec;
  spec.address = "10.202.0.5";
  spec.hostname = "a1b2c3d4e5f6";
  spec.aliases = {"mystack-web-1", "web", "a1b2c3d4e5f6"};
  spec.extra_hosts = {"db.local:10.202.9.9", "host.docker.internal:host-gateway", "v6host:::1", "eq=10.202.9.8"};
  spec.host_gateway = "10.202.0.1";
  auto h = build_hosts(spec);
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_EQ(*h, std::string(kLocal) +
                    "10.202.9.9\tdb.local\n"
                    "10.202.0.1\thost.docker.internal\n"
                    "::1\tv6host\n"
                    "10.202.9.8\teq\n"
                    "10.202.0.5\ta1b2c3d4e5f6 mystack-web-1 web\n");
}

TEST(EtcHosts, DomainnameAndNoAddress) {
  HostsSpec spec;
  spec.address = "10.202.0.6";
  spec.hostname = "web";
  spec.domainname = "example.test";
  EXPECT_EQ(*build_hosts(spec), std::string(kLocal) + "10.202.0.6\tweb.example.test web\n");
  HostsSpec none;  // network_mode none: only the fixed lines
  none.hostname = "x";
  EXPECT_EQ(*build_hosts(none), kLocal);
}

TEST(EtcHosts, BadEntriesNameTheFieldAndEntry) {
  auto err = [](HostsSpec spec) {
    auto r = build_hosts(spec);
    EXPECT_FALSE(r);
    return r ? std::string() : r.error().message();
  };
  HostsSpec s;
  s.extra_hosts = {"noaddress"};
  EXPECT_NE(err(s).find("extra_hosts: \"noaddress\""), std::string::npos);
  s.extra_hosts = {"h:999.1.1.1"};
  EXPECT_NE(err(s).find("\"999.1.1.1\" is not an IP address"), std::string::npos);
  s.extra_hosts = {"gw:host-gateway"};  // no gateway known (network_mode none)
  EXPECT_NE(err(s).find("host-gateway"), std::string::npos);
  s.extra_hosts = {"two words:10.0.0.1"};
  EXPECT_NE(err(s).find("bad host name"), std::string::npos);
  HostsSpec a;
  a.address = "10.202.0.7";
  a.hostname = "web";
  a.aliases = {"bad alias"};
  EXPECT_NE(err(a).find("aliases"), std::string::npos);
}

constexpr const char* kHostResolv =
    "# managed by something\n"
    "nameserver 127.0.0.53\n"
    "nameserver 192.0.2.53\n"
    "domain old.example\n"
    "search corp.example lab.example\n"
    "options edns0 trust-ad\n"
    "; comment\n";

TEST(EtcResolv, ParsesLikeGlibc) {
  auto c = parse_resolv_conf(kHostResolv);
  EXPECT_EQ(c.nameservers, (std::vector<std::string>{"127.0.0.53", "192.0.2.53"}));
  EXPECT_EQ(c.search, (std::vector<std::string>{"corp.example", "lab.example"}));  // last of domain/search
  EXPECT_EQ(c.options, (std::vector<std::string>{"edns0", "trust-ad"}));
}

TEST(EtcResolv, BridgeUsesTheGatewayAndInheritsSearch) {
  ResolvSpec spec;
  spec.gateway = "10.202.0.1";
  spec.host_resolv_conf = kHostResolv;
  EXPECT_EQ(*build_resolv_conf(spec),
            "nameserver 10.202.0.1\n"
            "search corp.example lab.example\n"
            "options edns0 trust-ad ndots:0\n");
  spec.dns_search = {"svc.example"};
  spec.dns_opt = {"ndots:2", "timeout:1"};
  EXPECT_EQ(*build_resolv_conf(spec),
            "nameserver 10.202.0.1\n"
            "search svc.example\n"
            "options ndots:2 timeout:1\n");
  spec.dns = {"9.9.9.9", "2620:fe::fe"};  // explicit servers replace ours
  EXPECT_EQ(*build_resolv_conf(spec),
            "nameserver 9.9.9.9\nnameserver 2620:fe::fe\nsearch svc.example\noptions ndots:2 timeout:1\n");
}

TEST(EtcResolv, HostCopiesNoneDropsLoopbackServers) {
  ResolvSpec host{ResolvMode::Host, "", kHostResolv, {}, {}, {}};
  EXPECT_EQ(*build_resolv_conf(host),
            "nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch corp.example lab.example\noptions edns0 trust-ad\n");
  ResolvSpec none{ResolvMode::None, "", kHostResolv, {}, {}, {}};
  EXPECT_EQ(*build_resolv_conf(none), "nameserver 192.0.2.53\nsearch corp.example lab.example\noptions edns0 trust-ad\n");
  none.host_resolv_conf = "nameserver 127.0.0.1\nnameserver ::1\n";
  EXPECT_EQ(*build_resolv_conf(none), "");
}

TEST(EtcResolv, BadInputNamesTheField) {
  ResolvSpec spec;
  spec.gateway = "10.202.0.1";
  spec.dns = {"dns.google"};
  auto r = build_resolv_conf(spec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "dns: \"dns.google\" is not an IP address: Invalid argument");
  spec.dns = {};
  spec.dns_opt = {"bad opt"};
  EXPECT_FALSE(build_resolv_conf(spec));
  ResolvSpec nogw;
  EXPECT_FALSE(build_resolv_conf(nogw));  // bridge without a gateway or servers
}

TEST(EtcHostname, ValidatesAndTerminates) {
  EXPECT_EQ(*build_hostname("web-1.local"), "web-1.local\n");
  EXPECT_FALSE(build_hostname(""));
  EXPECT_FALSE(build_hostname("with space"));
  EXPECT_FALSE(build_hostname(std::string(65, 'a')));
}

TEST(EtcWrite, AtomicReplacesAndInPlaceKeepsTheInode) {
  stack::test::TempDir dir;
  std::string path = dir.path() + "/hosts";
  ASSERT_TRUE(stack::io::write_file_atomic(path, "one\n", 0640));
  EXPECT_EQ(slurp(path), "one\n");
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  ino_t first = st.st_ino;
  ASSERT_TRUE(stack::io::write_file_atomic(path, "two\n"));
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_NE(st.st_ino, first);  // a new file renamed over the old one
  ino_t second = st.st_ino;
  ASSERT_TRUE(stack::io::write_file_in_place(path, "3\n"));
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, second);
  EXPECT_EQ(slurp(path), "3\n");
  // Only the target is left: no temp files.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
  // Failure: a missing directory leaves nothing behind and says where.
  auto r = stack::io::write_file_atomic(dir.path() + "/missing/hosts", "x");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("missing/hosts"), std::string::npos);
  EXPECT_FALSE(stack::io::write_file_in_place(dir.path() + "/absent", "x"));
}

}  // namespace
