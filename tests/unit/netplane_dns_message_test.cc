// The resolver's pure parts: DNS wire parsing/building (dns_message.h), the
// record table and its NXDOMAIN/forward policy (dns_records.h), and the
// upstream syntax (dns_server.h parse_dns_upstream).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "netplane/dns_message.h"
#include "netplane/dns_records.h"
#include "netplane/dns_server.h"

namespace {

namespace dns = stack::net::dns;
using stack::net::DnsRecord;
using stack::net::DnsRecordTable;
using Bytes = std::vector<uint8_t>;
using Verdict = DnsRecordTable::Verdict;

uint32_t ip(const char* s) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, s, &a), 1) << s;
  return a.s_addr;
}

dns::Query parse_ok(const Bytes& b) {
  auto q = dns::parse_query(b);
  EXPECT_TRUE(q) << q.error().message();
  return q ? *q : dns::Query{};
}

dns::Response response_ok(const Bytes& b) {
  auto r = dns::parse_response(b);
  EXPECT_TRUE(r) << r.error().message();
  return r ? *r : dns::Response{};
}

TEST(DnsMessage, ParsesAQueryKeepingCaseAndEdns) {
  auto q = parse_ok(dns::build_query("Web.MyStack.", dns::kTypeA, 0xBEEF, 1232));
  EXPECT_EQ(q.id, 0xBEEF);
  EXPECT_TRUE(q.recursion_desired);
  EXPECT_EQ(q.labels, (std::vector<std::string>{"Web", "MyStack"}));
  EXPECT_EQ(q.qtype, dns::kTypeA);
  EXPECT_EQ(q.qclass, dns::kClassIN);
  ASSERT_TRUE(q.edns_udp_size);
  EXPECT_EQ(*q.edns_udp_size, 1232);
  EXPECT_EQ(dns::lookup_name(q), "web.mystack");
  EXPECT_EQ(dns::udp_limit(q), 1232u);
  EXPECT_EQ(dns::udp_limit(parse_ok(dns::build_query("a", 1, 1))), 512u);
}

// A query's first name cannot point anywhere useful (pointers must go
// backwards and it is the first name), so compression shows up in the
// records after it: an owner pointing at the question (offset 12) or at a
// suffix of it, and a question pointing back into the header.
TEST(DnsMessage, FollowsBackwardCompressionPointersOnly) {
  const Bytes header = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  Bytes p = header;
  p.insert(p.end(), {3, 'w', 'e', 'b', 7, 'm', 'y', 's', 't', 'a', 'c', 'k', 0, 0, 1, 0, 1});
  EXPECT_EQ(dns::lookup_name(parse_ok(p)), "web.mystack");

  Bytes rr = p;
  rr[7] = 2;  // ANCOUNT: tolerated in a query
  rr.insert(rr.end(), {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0, 1});  // owner -> "web.mystack"
  rr.insert(rr.end(), {1, 'x', 0xC0, 0x10, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0});        // "x" + -> "mystack"
  EXPECT_EQ(dns::lookup_name(parse_ok(rr)), "web.mystack");

  Bytes self_pointer = header;  // a pointer to itself would loop
  self_pointer.insert(self_pointer.end(), {0xC0, 0x0C, 0, 1, 0, 1});
  EXPECT_FALSE(dns::parse_query(self_pointer));
  Bytes into_header = header;  // offset 4 holds 0x00: the root name, in bounds
  into_header.insert(into_header.end(), {0xC0, 0x04, 0, 2, 0, 1});
  auto root = parse_ok(into_header);
  EXPECT_TRUE(root.labels.empty());
  EXPECT_EQ(root.qtype, 2);
}

TEST(DnsMessage, BuildsAnswersWithTtlZeroAndEchoedQuestion) {
  auto q = parse_ok(dns::build_query("Web.MyStack", dns::kTypeA, 7));
  std::vector<uint32_t> addrs{ip("10.201.0.2"), ip("10.201.0.3")};
  auto out = dns::build_response(q, dns::Rcode::NoError, addrs, 512);
  auto r = response_ok(out);
  EXPECT_EQ(r.id, 7);
  EXPECT_EQ(r.rcode, dns::Rcode::NoError);
  EXPECT_TRUE(r.authoritative);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.question, "web.mystack");
  EXPECT_EQ(r.ipv4, (std::vector<std::string>{"10.201.0.2", "10.201.0.3"}));
  // The question is echoed byte for byte (0x20 case randomisation).
  EXPECT_NE(std::string(out.begin(), out.end()).find("\x03Web\x07MyStack"), std::string::npos);
  // TTL of the first answer (after header, question (17 bytes), pointer, type, class).
  size_t ttl_at = 12 + 17 + 2 + 4;
  EXPECT_EQ(out[ttl_at] | out[ttl_at + 1] | out[ttl_at + 2] | out[ttl_at + 3], 0);
}

TEST(DnsMessage, NxdomainServfailAndNodataCarryNoAnswers) {
  auto q = parse_ok(dns::build_query("nope.mystack", dns::kTypeA, 9));
  for (auto rc : {dns::Rcode::NxDomain, dns::Rcode::ServFail, dns::Rcode::NoError}) {
    auto r = response_ok(dns::build_response(q, rc));
    EXPECT_EQ(r.rcode, rc);
    EXPECT_EQ(r.answers, 0);
    EXPECT_EQ(r.id, 9);
  }
}

TEST(DnsMessage, TruncatesOversizedUdpAnswersUnlessEdnsAllowsThem) {
  std::vector<uint32_t> many;
  for (int i = 0; i < 40; ++i) many.push_back(htonl(0x0AC90000u + static_cast<uint32_t>(i)));  // 10.201.0.x
  auto classic = parse_ok(dns::build_query("web", dns::kTypeA, 1));
  auto r = response_ok(dns::build_response(classic, dns::Rcode::NoError, many, dns::udp_limit(classic)));
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.answers, 0);
  // The same over TCP (no limit) and with EDNS 1232: all 40.
  EXPECT_EQ(response_ok(dns::build_response(classic, dns::Rcode::NoError, many, 65535)).ipv4.size(), 40u);
  auto edns = parse_ok(dns::build_query("web", dns::kTypeA, 1, 1232));
  auto e = response_ok(dns::build_response(edns, dns::Rcode::NoError, many, dns::udp_limit(edns)));
  EXPECT_FALSE(e.truncated);
  EXPECT_EQ(e.ipv4.size(), 40u);
  // 30 answers still fit in 512 bytes without EDNS.
  std::vector<uint32_t> thirty(many.begin(), many.begin() + 30);
  EXPECT_FALSE(response_ok(dns::build_response(classic, dns::Rcode::NoError, thirty, 512)).truncated);
}

TEST(DnsMessage, RejectsMalformedPacketsWithoutCrashing) {
  auto good = dns::build_query("web.mystack", dns::kTypeA, 0x4242, 4096);
  // Every truncation of a valid query is rejected (the OPT tail is optional
  // only as a whole: cutting inside it is an error too).
  for (size_t n = 0; n < good.size(); ++n) {
    Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
    EXPECT_FALSE(dns::parse_query(cut)) << "prefix of " << n << " bytes";
  }
  Bytes response = good;
  response[2] |= 0x80;
  EXPECT_FALSE(dns::parse_query(response));
  Bytes two_questions = good;
  two_questions[5] = 2;
  EXPECT_FALSE(dns::parse_query(two_questions));
  Bytes bad_label_type = good;
  bad_label_type[12] = 0x43;  // 01xxxxxx: extended label type
  EXPECT_FALSE(dns::parse_query(bad_label_type));
  Bytes forward_pointer = good;
  forward_pointer[12] = 0xC0;
  forward_pointer[13] = 0x20;
  EXPECT_FALSE(dns::parse_query(forward_pointer));
  // A name over 255 bytes.
  std::string longname;
  for (int i = 0; i < 5; ++i) longname += std::string(60, 'a') + ".";
  EXPECT_FALSE(dns::parse_query(dns::build_query(longname, dns::kTypeA, 1)));

  // Random corruption: never crashes, never reads out of bounds (run under
  // SANITIZE=1 to make the latter loud).
  std::mt19937 rng(1234);
  for (int round = 0; round < 20000; ++round) {
    Bytes p = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) p[rng() % p.size()] = static_cast<uint8_t>(rng());
    if (rng() % 3 == 0) p.resize(rng() % (p.size() + 8), static_cast<uint8_t>(rng()));
    auto q = dns::parse_query(p);
    if (q) (void)dns::build_response(*q, dns::Rcode::NoError, {}, 512);
    (void)dns::parse_response(p);
    (void)dns::build_format_error(p);
  }
}

TEST(DnsMessage, FormatErrorOnlyForReadableQueries) {
  auto good = dns::build_query("web", dns::kTypeA, 0x0102);
  Bytes garbage(good.begin(), good.begin() + 14);  // header + a cut name
  auto err = dns::build_format_error(garbage);
  ASSERT_TRUE(err);
  auto r = response_ok(*err);
  EXPECT_EQ(r.id, 0x0102);
  EXPECT_EQ(r.rcode, dns::Rcode::FormErr);
  EXPECT_FALSE(dns::build_format_error(Bytes(good.begin(), good.begin() + 5)));  // no header
  Bytes answer = garbage;
  answer[2] |= 0x80;
  EXPECT_FALSE(dns::build_format_error(answer));  // never answer an answer
}

TEST(DnsMessage, LookupNameRefusesLabelsWithDots) {
  dns::Query q;
  q.labels = {"we.b", "mystack"};
  EXPECT_FALSE(dns::lookup_name(q));
  q.labels = {};
  EXPECT_EQ(dns::lookup_name(q), "");
}

DnsRecord rec(std::string key, std::string net, std::vector<std::string> names, std::string addr) {
  return DnsRecord{std::move(key), std::move(net), std::move(names), std::move(addr)};
}

TEST(DnsRecords, RoundRobinRotatesEveryQuery) {
  DnsRecordTable t;
  t.upsert(rec("c1/n", "n", {"web", "web.mystack"}, "10.201.0.2"));
  t.upsert(rec("c2/n", "n", {"web", "web.mystack"}, "10.201.0.3"));
  t.upsert(rec("c3/n", "n", {"web", "web.mystack"}, "10.201.0.4"));
  std::vector<uint32_t> all{ip("10.201.0.2"), ip("10.201.0.3"), ip("10.201.0.4")};
  std::vector<std::vector<uint32_t>> seen;
  for (int i = 0; i < 3; ++i) {
    auto l = t.lookup("n", "web");
    ASSERT_EQ(l.verdict, Verdict::Found);
    ASSERT_EQ(l.ipv4.size(), 3u);
    seen.push_back(l.ipv4);
  }
  EXPECT_EQ(seen[0], all);
  EXPECT_EQ(seen[1], (std::vector<uint32_t>{all[1], all[2], all[0]}));
  EXPECT_EQ(seen[2], (std::vector<uint32_t>{all[2], all[0], all[1]}));
  EXPECT_EQ(t.lookup("n", "web").ipv4, all);  // wrapped around
}

TEST(DnsRecords, NamesAreCaseInsensitiveAndTrailingDotFree) {
  DnsRecordTable t;
  t.upsert(rec("c1/n", "n", {"Web.MyStack.", "DB"}, "10.201.0.2"));
  EXPECT_EQ(t.lookup("n", stack::net::normalize_dns_name("WEB.mystack.")).verdict, Verdict::Found);
  EXPECT_EQ(t.lookup("n", "db").verdict, Verdict::Found);
  EXPECT_EQ(stack::net::normalize_dns_name("A.B.."), "a.b");
}

TEST(DnsRecords, NxdomainForOurSuffixesAndSingleLabelsElseForward) {
  DnsRecordTable t;
  t.upsert(rec("c1/n", "n", {"web", "web.mystack", "mystack-web-1", "1.web", "api.example.com"}, "10.201.0.2"));
  EXPECT_EQ(t.lookup("n", "nope.mystack").verdict, Verdict::NxDomain);
  EXPECT_EQ(t.lookup("n", "2.web").verdict, Verdict::NxDomain);  // "1.web" makes "web" a suffix of ours
  EXPECT_EQ(t.lookup("n", "nope").verdict, Verdict::NxDomain);
  EXPECT_EQ(t.lookup("n", "example.org").verdict, Verdict::Forward);
  // An alias with dots does not capture its TLD.
  EXPECT_EQ(t.lookup("n", "api.example.com").verdict, Verdict::Found);
  EXPECT_EQ(t.lookup("n", "www.example.com").verdict, Verdict::Forward);
  EXPECT_EQ(t.lookup("n", "").verdict, Verdict::Forward);  // the root
  // A network with no records at all: single labels are still ours.
  EXPECT_EQ(t.lookup("other", "web").verdict, Verdict::NxDomain);
  EXPECT_EQ(t.lookup("other", "web.mystack").verdict, Verdict::Forward);
}

TEST(DnsRecords, NetworksAreIsolatedAndUpdatesApplyAtOnce) {
  DnsRecordTable t;
  t.upsert(rec("a/n1", "n1", {"web"}, "10.201.1.2"));
  t.upsert(rec("b/n2", "n2", {"db"}, "10.201.2.2"));
  EXPECT_EQ(t.lookup("n1", "db").verdict, Verdict::NxDomain);
  EXPECT_EQ(t.lookup("n2", "web").verdict, Verdict::NxDomain);
  // Replace by key: the address and the network may change.
  t.upsert(rec("a/n1", "n1", {"web"}, "10.201.1.9"));
  EXPECT_EQ(t.lookup("n1", "web").ipv4, std::vector<uint32_t>{ip("10.201.1.9")});
  t.upsert(rec("a/n1", "n2", {"web"}, "10.201.2.9"));
  EXPECT_EQ(t.lookup("n1", "web").verdict, Verdict::NxDomain);
  EXPECT_EQ(t.lookup("n2", "web").verdict, Verdict::Found);
  ASSERT_EQ(t.records("n2").size(), 2u);
  EXPECT_EQ(t.records("n2")[0].key, "a/n1");
  t.remove("a/n1");
  EXPECT_EQ(t.lookup("n2", "web").verdict, Verdict::NxDomain);
  t.remove_network("n2");
  EXPECT_TRUE(t.records("n2").empty());
  EXPECT_EQ(t.lookup("n2", "db").verdict, Verdict::NxDomain);
}

TEST(DnsRecords, DuplicateAddressesAndBadAddresses) {
  DnsRecordTable t;
  t.upsert(rec("a", "n", {"web", "WEB"}, "10.201.0.2"));  // same name twice: one address
  EXPECT_EQ(t.lookup("n", "web").ipv4.size(), 1u);
  t.upsert(rec("b", "n", {"broken"}, "not-an-ip"));
  auto l = t.lookup("n", "broken");
  EXPECT_EQ(l.verdict, Verdict::Found);  // the name exists: NODATA, not NXDOMAIN
  EXPECT_TRUE(l.ipv4.empty());
}

TEST(DnsUpstream, ParsesAddressesAndPorts) {
  auto p = [](const char* s) { return stack::net::parse_dns_upstream(s); };
  ASSERT_TRUE(p("9.9.9.9"));
  EXPECT_EQ(p("9.9.9.9")->port, 53);
  EXPECT_EQ(p("127.0.0.3:5353")->address, "127.0.0.3");
  EXPECT_EQ(p("127.0.0.3:5353")->port, 5353);
  EXPECT_EQ(p("::1")->address, "::1");
  EXPECT_EQ(p("[::1]:5300")->port, 5300);
  EXPECT_EQ(p("[fd00::1]")->address, "fd00::1");
  for (const char* bad : {"", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4:x", "[::1", "[::1]x", ":53"}) {
    auto r = p(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().message().find("upstream"), std::string::npos);
    }
  }
}

}  // namespace
