// Join tokens (orchestrator/cluster/join_token.h): the exact shape is
// enforced, errors never echo the secret, and secrets pick the role.
#include <gtest/gtest.h>

#include <algorithm>

#include "orchestrator/cluster/join_token.h"
#include "orchestrator/cluster/pki.h"

namespace stack::cluster {
namespace {

const std::string kDigest(64, 'a');
const std::string kSecret = "0123456789abcdef0123456789abcdef";

bool lower_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

TEST(JoinToken, FormatParseRoundTrip) {
  std::string digest = cert_digest(make_ca("c1").value().cert_pem).value();
  std::string secret = make_secret().value();
  std::string text = format_token({digest, secret});
  EXPECT_EQ("STACK-1-" + digest + "-" + secret, text);
  for (const std::string& pasted : {text, "  " + text + "\n", "\t" + text + "\r\n"}) {
    JoinToken t = parse_token(pasted).value();
    EXPECT_EQ(digest, t.ca_digest);
    EXPECT_EQ(secret, t.secret);
  }
}

TEST(JoinToken, MakeSecretIs128FreshRandomBits) {
  std::string a = make_secret().value();
  std::string b = make_secret().value();
  EXPECT_EQ(32u, a.size());
  EXPECT_TRUE(lower_hex(a)) << a;
  EXPECT_TRUE(lower_hex(b)) << b;
  EXPECT_NE(a, b);
}

TEST(JoinToken, ParseRejectsMalformedTokensWithoutEchoingTheSecret) {
  const std::string good = "STACK-1-" + kDigest + "-" + kSecret;
  std::string upper_secret = kSecret;
  std::transform(upper_secret.begin(), upper_secret.end(), upper_secret.begin(), ::toupper);
  std::string upper_digest = kDigest;
  upper_digest[0] = 'A';
  struct Case {
    std::string text;
    std::string expect;  // part of the message
  };
  const std::string shape = "join token: expected STACK-1-<64 hex>-<32 hex>";
  const std::string bad_digest = "join token: the CA digest is not 64 lowercase hex characters";
  const std::string bad_secret = "join token: the secret is not 32 lowercase hex characters";
  const std::vector<Case> cases = {
      {"", shape},
      {"STACK-2-" + kDigest + "-" + kSecret, shape},
      {"SWMTKN-1-" + kDigest + "-" + kSecret, shape},
      {"stack-1-" + kDigest + "-" + kSecret, shape},
      {"STACK-1-" + kDigest + kSecret, shape},              // missing separator
      {"STACK-1-" + kDigest + "-" + kSecret + "-00", shape},  // extra part
      {"STACK-1-" + kDigest, shape},                        // no secret at all
      {"STACK-1-" + kSecret, shape},
      {"STACK-1--" + kSecret, bad_digest},
      {"STACK-1-" + kDigest + "a-" + kSecret, bad_digest},
      {"STACK-1-" + kDigest.substr(1) + "-" + kSecret, bad_digest},
      {"STACK-1-" + upper_digest + "-" + kSecret, bad_digest},
      {"STACK-1-" + kDigest.substr(1) + "g-" + kSecret, bad_digest},
      {"STACK-1-" + kDigest + "-", bad_secret},
      {"STACK-1-" + kDigest + "-" + kSecret + "0", bad_secret},
      {"STACK-1-" + kDigest + "-" + kSecret.substr(1), bad_secret},
      {"STACK-1-" + kDigest + "-" + upper_secret, bad_secret},
      {"STACK-1-" + kDigest + "-" + kSecret.substr(1) + "z", bad_secret},
      {"STACK-1-" + kDigest + "-" + kSecret.substr(1) + " ", bad_secret},
      {good.substr(0, good.size() - 1) + "\n" + "f", bad_secret},
      {"x" + good, shape},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = parse_token(c.text);
    ASSERT_FALSE(r);
    const std::string msg = r.error().message();
    EXPECT_NE(std::string::npos, msg.find(c.expect)) << msg;
    // Not the secret, nor a recognisable piece of it, in any case.
    for (const std::string& s : {kSecret, upper_secret})
      EXPECT_EQ(std::string::npos, msg.find(s.substr(1, 12))) << msg;
  }
  EXPECT_TRUE(parse_token(good));
}

TEST(JoinToken, SecretMatchesOnlyTheSameSecret) {
  std::string other = kSecret;
  other.back() = '0';
  EXPECT_TRUE(secret_matches(kSecret, kSecret));
  EXPECT_FALSE(secret_matches(kSecret, other));
  EXPECT_FALSE(secret_matches(kSecret, kSecret + "00"));  // longer, with the real secret as its prefix
  EXPECT_FALSE(secret_matches(kSecret, kSecret.substr(0, 16)));
  EXPECT_FALSE(secret_matches(kSecret, ""));
  EXPECT_FALSE(secret_matches("", "")) << "an unset secret never matches";
}

TEST(JoinToken, RoleForSecretPicksTheRoleOrRefuses) {
  std::string worker = make_secret().value();
  std::string manager = make_secret().value();
  EXPECT_EQ(Role::Worker, role_for_secret(worker, manager, worker).value());
  EXPECT_EQ(Role::Manager, role_for_secret(worker, manager, manager).value());
  for (const std::string& presented : {make_secret().value(), std::string(), worker + manager}) {
    auto r = role_for_secret(worker, manager, presented);
    ASSERT_FALSE(r);
    EXPECT_EQ("join token: the secret matches neither the worker nor the manager token", r.error().message());
  }
  // Misconfigured cluster: one secret for both roles is refused, not guessed.
  EXPECT_FALSE(role_for_secret(worker, worker, worker));
  // An unset manager secret is not a way in as manager.
  EXPECT_FALSE(role_for_secret(worker, "", ""));
}

}  // namespace
}  // namespace stack::cluster
