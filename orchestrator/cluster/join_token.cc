// Join tokens (join_token.h). The token text is a credential: errors describe
// its shape, never its content.
#include "orchestrator/cluster/join_token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <string_view>

#include "orchestrator/cluster/openssl_handles.h"

namespace stack::cluster {
namespace {

constexpr const char* kPrefix = "STACK-1-";
constexpr size_t kDigestLen = 64;
constexpr size_t kSecretLen = 32;
constexpr const char* kShape = "join token: expected STACK-1-<64 hex>-<32 hex>";

bool lower_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

Result<std::string> make_secret() {
  ossl::ErrorScope scope;
  unsigned char bytes[kSecretLen / 2];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return ossl::fail_openssl("make join secret");
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  OPENSSL_cleanse(bytes, sizeof bytes);
  return out;
}

std::string format_token(const JoinToken& token) { return kPrefix + token.ca_digest + "-" + token.secret; }

Result<JoinToken> parse_token(const std::string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && space(text[begin])) ++begin;
  while (end > begin && space(text[end - 1])) --end;
  std::string_view t(text.data() + begin, end - begin);
  const std::string_view prefix(kPrefix);
  if (t.substr(0, prefix.size()) != prefix) return fail(kShape);
  t.remove_prefix(prefix.size());
  // The digest and the secret are hex, so exactly one '-' separates them.
  size_t dash = t.find('-');
  if (dash == std::string_view::npos || t.find('-', dash + 1) != std::string_view::npos) return fail(kShape);
  JoinToken token{std::string(t.substr(0, dash)), std::string(t.substr(dash + 1))};
  if (token.ca_digest.size() != kDigestLen || !lower_hex(token.ca_digest))
    return fail("join token: the CA digest is not 64 lowercase hex characters");
  if (token.secret.size() != kSecretLen || !lower_hex(token.secret))
    return fail("join token: the secret is not 32 lowercase hex characters");
  return token;
}

bool secret_matches(const std::string& expected, const std::string& presented) {
  if (expected.empty() || expected.size() != presented.size()) return false;
  return CRYPTO_memcmp(expected.data(), presented.data(), expected.size()) == 0;
}

Result<Role> role_for_secret(const std::string& worker_secret, const std::string& manager_secret,
                             const std::string& presented) {
  // Both comparisons always run, so the time taken says nothing about which matched.
  bool worker = secret_matches(worker_secret, presented);
  bool manager = secret_matches(manager_secret, presented);
  if (worker && manager)
    return fail("join token: the worker and manager secrets are the same; refusing to pick a role");
  if (manager) return Role::Manager;
  if (worker) return Role::Worker;
  return fail("join token: the secret matches neither the worker nor the manager token");
}

}  // namespace stack::cluster
