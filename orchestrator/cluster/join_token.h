// Join tokens: what an operator hands to a node so it may join the cluster,
// in the manner of Docker Swarm's SWMTKN-1 tokens:
//
//   STACK-1-<CA digest: 64 lowercase hex>-<secret: 32 lowercase hex>
//
// The CA digest (cert_digest() of the cluster CA) lets the joining node check
// the CA a manager shows it before it sends anything; the secret (128 random
// bits) is what the manager checks, and it decides the role: the cluster keeps
// one secret for workers and one for managers. The secret is a credential:
// nothing here ever puts it in an error message.
#pragma once

#include <string>

#include "base/error.h"
#include "orchestrator/cluster/pki.h"

namespace stack::cluster {

struct JoinToken {
  std::string ca_digest;  // 64 lowercase hex
  std::string secret;     // 32 lowercase hex = 128 random bits
};

// 32 lowercase hex characters from RAND_bytes.
stack::Result<std::string> make_secret();

std::string format_token(const JoinToken&);

// Strict: prefix "STACK-1-", exactly the lengths above, lowercase hex only;
// surrounding whitespace is trimmed (tokens get pasted). Errors say what is
// wrong without echoing the token.
stack::Result<JoinToken> parse_token(const std::string& text);

// Constant-time comparison (CRYPTO_memcmp); false on a length mismatch and
// when `expected` is empty (an unset secret must never match).
bool secret_matches(const std::string& expected, const std::string& presented);

// The role a presented secret is for, given the cluster's worker and manager
// secrets; an error when it matches neither, and when it matches both (the
// cluster's secrets are misconfigured; we will not guess the role).
stack::Result<Role> role_for_secret(const std::string& worker_secret, const std::string& manager_secret,
                                    const std::string& presented);

}  // namespace stack::cluster
