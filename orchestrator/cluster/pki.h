// The cluster's PKI: one CA per cluster (made by the first manager), node
// certificates signed from CSRs so that a node's private key never leaves it,
// and the checks a peer makes on a certificate it is shown. Nodes and etcd
// speak mutual TLS with these certificates; the subject's CN is the node id
// and its O the node's role, which etcd and stackd's server read.
//
// Everything is PEM text in and out: no file or network I/O. Who stores the
// CA key, and where, is the caller's business. All functions are safe to call
// from several threads (OpenSSL 3's error queue is per thread).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace stack::cluster {

struct KeyPair {
  std::string key_pem;  // PKCS#8 private key PEM, unencrypted
};

struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8, unencrypted
};

enum class Role { Worker, Manager };

std::string role_name(Role);                         // "worker" / "manager"
stack::Result<Role> parse_role(const std::string&);  // exactly "worker" or "manager"

// Whether `id` is a node id: [a-z0-9][a-z0-9-]{0,62}. Such an id is safe as a
// CN, a DNS label, a file name and a log field.
bool valid_node_id(const std::string& id);

// A new private key: ECDSA P-256.
stack::Result<KeyPair> make_key();

// The cluster CA: a new P-256 key and a self-signed CA certificate
// (basicConstraints critical CA:TRUE, keyUsage keyCertSign+cRLSign,
// subjectKeyIdentifier), CN "stack cluster CA <cluster_id>", valid `days`
// from one hour ago (clock skew between nodes), random 128-bit serial.
// cluster_id: 1 to 47 characters of [A-Za-z0-9._-] (a CN holds 64).
stack::Result<CertAndKey> make_ca(const std::string& cluster_id, int days = 3650);

// SHA-256 of the certificate's DER encoding, 64 lowercase hex characters: what
// a join token carries so that a joining node can check the CA it is shown.
stack::Result<std::string> cert_digest(const std::string& cert_pem);

// A CSR for `node_id` (subject CN=node_id), signed with `key_pem`. The id must
// be valid_node_id(); the CA checks it again, since it cannot trust the CSR.
stack::Result<std::string> make_csr(const std::string& key_pem, const std::string& node_id);

struct NodeCertSpec {
  Role role = Role::Worker;
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries (IPv4 or IPv6 text)
  std::vector<std::string> dns_names;     // subjectAltName DNS entries ([A-Za-z0-9.-], 1-253 chars)
  int days = 90;                          // validity from one hour ago; must be > 0
  // For tests and rotation checks: the exact notAfter, overriding `days`.
  // notBefore is then the earlier of (now - 1 hour) and (not_after - 1 hour),
  // so a certificate that is already expired can be made.
  std::optional<std::chrono::system_clock::time_point> not_after_override;
};

// The CA signs a node's CSR. The CSR's own signature must verify (proof that
// the requester holds the key). Only the CN is taken from the CSR, never its
// extensions or other subject fields: subject CN=<node id>, O=<role name>; SAN
// from `spec`; extendedKeyUsage serverAuth+clientAuth; basicConstraints
// CA:FALSE; keyUsage digitalSignature+keyEncipherment; subject and authority
// key identifiers; random 128-bit serial; signed with SHA-256.
stack::Result<std::string> sign_csr(const CertAndKey& ca, const std::string& csr_pem, const NodeCertSpec& spec);

struct CertIdentity {
  std::string node_id;
  Role role = Role::Worker;
  std::string not_after_utc;  // "2027-03-06T16:20:00Z"
};

// Verifies that `cert_pem` chains to `ca_cert_pem` (a store holding only that
// CA, purpose any, the current time) and returns the identity it carries. The
// error carries OpenSSL's verify reason ("certificate has expired", "unable to
// get local issuer certificate"); a CN that is not a node id or an O that is
// not a role is an error too.
stack::Result<CertIdentity> verify_node_cert(const std::string& ca_cert_pem, const std::string& cert_pem);

// Whether key_pem is the private key of cert_pem; false when either does not parse.
bool key_matches_cert(const std::string& key_pem, const std::string& cert_pem);

}  // namespace stack::cluster
