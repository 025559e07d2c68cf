// The state store's contract (tests/support/store_contract.h) on a real etcd
// (Debian's etcd-server, one member per test so that revisions start at 1),
// and what only etcd does: leases that expire by etcd's clock, mutual TLS,
// key prefixes that keep users of one etcd apart, an unreachable endpoint.
#include <gtest/gtest.h>

#include <thread>

#include "orchestrator/daemon/store/etcd_store.h"
#include "tests/support/etcd_fixture.h"
#include "tests/support/store_contract.h"

namespace stack::orch {
namespace {

using test::EtcdFixture;
using test::EtcdFixtureOptions;

struct EtcdBackend {
  static constexpr bool kOwnLeaseClock = false;
  static constexpr bool kLazyWatch = false;
  static constexpr bool kKeepsTombstoneAtCompaction = false;
  static std::string skip_reason() { return EtcdFixture::skip_reason(); }

  EtcdFixture etcd;
  bool started = false;
  std::unique_ptr<StateStore> open(StoreOptions options) {
    if (!started) {
      auto err = etcd.start();
      EXPECT_EQ(err, "");
      if (!err.empty()) return nullptr;
      started = true;
    }
    auto o = etcd.client_options();
    o.retain_revisions = options.retain_revisions;
    auto s = open_etcd_store(o);
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return s ? std::move(*s) : nullptr;
  }
};

class EtcdName {
 public:
  template <class T>
  static std::string GetName(int) { return "Etcd"; }
};
using namespace contract;  // the macro below names the suite unqualified
INSTANTIATE_TYPED_TEST_SUITE_P(Store, StoreContract, ::testing::Types<EtcdBackend>, EtcdName);

class EtcdStoreTest : public ::testing::Test {
 protected:
  void start(EtcdFixtureOptions opts = {}) {
    auto why = EtcdFixture::skip_reason(opts);
    if (!why.empty()) GTEST_SKIP() << why;
    etcd_ = std::make_unique<EtcdFixture>(opts);
    ASSERT_EQ(etcd_->start(), "");
  }
  std::unique_ptr<StateStore> open(EtcdOptions o) {
    auto s = open_etcd_store(std::move(o));
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return s ? std::move(*s) : nullptr;
  }
  std::unique_ptr<EtcdFixture> etcd_;
};

// etcd's minimum TTL here is 2 s; the test waits for etcd to act, and asserts
// what it did, not how long it took.
TEST_F(EtcdStoreTest, ALeaseExpiresByEtcdsClockUnlessKeptAlive) {
  start();
  if (IsSkipped()) return;
  auto s = open(etcd_->client_options());
  ASSERT_TRUE(s);
  auto dying = s->lease_grant(2);
  auto kept = s->lease_grant(2);
  ASSERT_TRUE(dying && kept);
  ASSERT_TRUE(s->commit({{StoreOp::Put, "nodes/a", "up", *dying}, {StoreOp::Put, "nodes/b", "up", *kept}}));
  auto w = s->watch("nodes/", WatchOptions{true, 0});
  ASSERT_TRUE(w) << w.error().message();
  std::vector<WatchEvent> seen;
  for (int i = 0; i < 60 && seen.empty(); ++i) {  // keep `kept` alive meanwhile
    ASSERT_TRUE(s->lease_keep_alive(*kept));
    auto got = (*w)->wait(std::chrono::milliseconds(500));
    ASSERT_TRUE(got) << got.error().message();
    seen = *got;
  }
  ASSERT_EQ(seen.size(), 1u) << "etcd deleted the key of the lease that was not kept alive";
  EXPECT_EQ(seen[0].type, WatchEvent::Delete);
  EXPECT_EQ(seen[0].kv.key, "nodes/a");
  EXPECT_FALSE(s->get("nodes/a").value().has_value());
  EXPECT_TRUE(s->get("nodes/b").value().has_value()) << "the kept-alive lease outlived its TTL";
  auto late = s->lease_keep_alive(*dying);
  ASSERT_FALSE(late);
  EXPECT_TRUE(is_store_error(late.error(), kErrLeaseNotFound)) << late.error().message();
  EXPECT_TRUE(s->expire_leases().value().empty()) << "nothing for stackd to expire: etcd did";
}

TEST_F(EtcdStoreTest, MutualTlsNeedsTheClientCertificateAndTheRightCa) {
  start({.mutual_tls = true});
  if (IsSkipped()) return;
  auto good = etcd_->client_options();
  good.dial_timeout = std::chrono::seconds(3);
  auto s = open(good);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put("stacks/shop", "{}"));
  EXPECT_EQ(s->get("stacks/shop").value(), std::optional<std::string>("{}"));

  good.dial_timeout = std::chrono::seconds(1);  // the refusals below wait this long
  auto no_cert = good;
  no_cert.cert_file.clear();
  no_cert.key_file.clear();
  auto refused = open_etcd_store(no_cert);
  ASSERT_FALSE(refused) << "etcd runs with --client-cert-auth";
  EXPECT_NE(refused.error().message().find("etcd"), std::string::npos) << refused.error().message();

  auto plain = good;
  plain.ca_file.clear();
  plain.cert_file.clear();
  plain.key_file.clear();
  plain.endpoints = {"http://" + good.endpoints[0].substr(8)};
  EXPECT_FALSE(open_etcd_store(plain)) << "a plaintext client gets nothing from a TLS etcd";

  // A CA that did not sign etcd's certificate: the server is not trusted.
  test::TempDir other("other-ca");
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other -keyout " +
                         other.path() + "/ca.key -out " + other.path() + "/ca.pem 2>/dev/null").c_str()), 0);
  auto wrong_ca = good;
  wrong_ca.ca_file = other.path() + "/ca.pem";
  auto untrusted = open_etcd_store(wrong_ca);
  ASSERT_FALSE(untrusted);
  EXPECT_NE(untrusted.error().message().find("TLS"), std::string::npos) << untrusted.error().message();

  auto missing = good;
  missing.key_file = etcd_->dir() + "/no-such.key";
  auto no_key = open_etcd_store(missing);
  ASSERT_FALSE(no_key);
  EXPECT_NE(no_key.error().message().find("no-such.key"), std::string::npos) << no_key.error().message();
}

TEST_F(EtcdStoreTest, KeyPrefixesKeepUsersOfOneEtcdApart) {
  start();
  if (IsSkipped()) return;
  auto a_opts = etcd_->client_options();
  auto b_opts = a_opts;
  b_opts.key_prefix = "/other/";
  auto a = open(a_opts);
  auto b = open(b_opts);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->put("stacks/shop", "a"));
  ASSERT_TRUE(b->put("stacks/shop", "b"));
  ASSERT_TRUE(b->put("stacks/blog", "b"));
  auto listed = a->list("");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0], (std::pair<std::string, std::string>{"stacks/shop", "a"}));
  ASSERT_TRUE(a->commit({{StoreOp::DeletePrefix, "", ""}}));
  EXPECT_EQ(b->list("")->size(), 2u) << "deleting all of a's keys leaves b's";
}

TEST_F(EtcdStoreTest, AnUnreachableEndpointIsAnErrorNamingIt) {
  EtcdOptions o;
  o.endpoints = {"127.0.0.1:1"};
  o.dial_timeout = std::chrono::milliseconds(500);
  auto s = open_etcd_store(o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("127.0.0.1:1"), std::string::npos) << s.error().message();
  o.endpoints = {"no-port"};
  auto bad = open_etcd_store(o);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("host:port"), std::string::npos) << bad.error().message();
}

}  // namespace
}  // namespace stack::orch
