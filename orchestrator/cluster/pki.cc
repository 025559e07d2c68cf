// The cluster PKI over OpenSSL 3's EVP/X509 APIs (pki.h). Every handle is
// owned by an ossl:: unique_ptr; OpenSSL objects we hand to another (a name
// entry to a name, a general name to a SAN list) are released from their
// unique_ptr only once the receiver has taken them.
#include "orchestrator/cluster/pki.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "orchestrator/cluster/openssl_handles.h"

namespace stack::cluster {
namespace {

constexpr long kSkewSeconds = 3600;  // notBefore is this far in the past: clocks differ between nodes
constexpr int kMaxDays = 36500;
constexpr const char* kNodeIdRule = "[a-z0-9][a-z0-9-]{0,62}";

// Text from a CSR or a caller, made safe for an error message: printable
// ASCII as is, anything else as \xNN, cut after 80 characters.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  size_t n = 0;
  for (unsigned char c : s) {
    if (n++ == 80) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

bool valid_cluster_id(const std::string& id) {
  if (id.empty() || id.size() > 47) return false;
  for (char c : id)
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

bool valid_dns_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name)
    if (!alnum(c) && c != '.' && c != '-') return false;
  return true;
}

std::string hex(const unsigned char* data, size_t len) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < len; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0xf]);
  }
  return out;
}

std::time_t now() { return std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()); }

Result<ossl::PKey> new_p256_key() {
  ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1)
    return ossl::fail_openssl("generate P-256 key");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) return ossl::fail_openssl("generate P-256 key");
  return ossl::PKey(raw);
}

Result<void> add_name_entry(X509_NAME* name, int nid, const std::string& value) {
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1)
    return ossl::fail_openssl(std::string("set subject ") + OBJ_nid2sn(nid));
  return {};
}

// A random positive 128-bit serial (RFC 5280 allows up to 20 octets).
Result<void> set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return ossl::fail_openssl("random serial");
  ossl::Bignum bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn) return ossl::fail_openssl("random serial");
  if (BN_is_zero(bn.get()) && BN_one(bn.get()) != 1) return ossl::fail_openssl("random serial");
  if (BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) return ossl::fail_openssl("set serial");
  return {};
}

Result<void> set_validity(X509* cert, std::time_t not_before, std::time_t not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(cert), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), not_after) == nullptr)
    return ossl::fail_openssl("set validity");
  return {};
}

// An extension from OpenSSL's config syntax. Only ever called with our own
// constant values, never with text from a CSR or a spec (see add_san).
Result<void> add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ossl::Ext ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)  // X509_add_ext copies
    return ossl::fail_openssl(std::string("add ") + OBJ_nid2sn(nid));
  return {};
}

// subjectAltName built from typed GENERAL_NAMEs rather than config text, so a
// name containing "," cannot smuggle in another entry.
Result<void> add_san(X509* cert, const NodeCertSpec& spec) {
  if (spec.ip_addresses.empty() && spec.dns_names.empty()) return {};
  ossl::GeneralNames names(GENERAL_NAMES_new());
  if (!names) return ossl::fail_openssl("subjectAltName");
  auto push = [&](int type, ASN1_STRING* value) -> Result<void> {
    ossl::GeneralName gn(GENERAL_NAME_new());
    if (!gn) {
      ASN1_STRING_free(value);
      return ossl::fail_openssl("subjectAltName");
    }
    GENERAL_NAME_set0_value(gn.get(), type, value);  // gn owns value from here
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) return ossl::fail_openssl("subjectAltName");
    gn.release();  // names owns it
    return {};
  };
  for (const auto& ip : spec.ip_addresses) {
    unsigned char addr[16];
    int len = 0;
    // inet_pton is strict (no trailing text, no octal); c_str() would stop at
    // an embedded NUL, so refuse those first.
    if (ip.find('\0') == std::string::npos) {
      if (inet_pton(AF_INET, ip.c_str(), addr) == 1)
        len = 4;
      else if (inet_pton(AF_INET6, ip.c_str(), addr) == 1)
        len = 16;
    }
    if (len == 0) return fail("subjectAltName: IP address " + quoted(ip) + " is neither IPv4 nor IPv6");
    ossl::OctetString os(ASN1_OCTET_STRING_new());
    if (!os || ASN1_OCTET_STRING_set(os.get(), addr, len) != 1) return ossl::fail_openssl("subjectAltName");
    STACK_TRY(push(GEN_IPADD, os.release()));
  }
  for (const auto& dns : spec.dns_names) {
    if (!valid_dns_name(dns))
      return fail("subjectAltName: DNS name " + quoted(dns) + " is not 1 to 253 characters of [A-Za-z0-9.-]");
    ossl::IA5String s(ASN1_IA5STRING_new());
    if (!s || ASN1_STRING_set(s.get(), dns.data(), static_cast<int>(dns.size())) != 1)
      return ossl::fail_openssl("subjectAltName");
    STACK_TRY(push(GEN_DNS, s.release()));
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1)
    return ossl::fail_openssl("add subjectAltName");
  return {};
}

// The one entry of `nid` in `name`, as UTF-8; an error when there is none or
// more than one (two CNs would let a reader pick the wrong one).
Result<std::string> only_entry(const X509_NAME* name, int nid) {
  const std::string label = OBJ_nid2sn(nid);
  int i = X509_NAME_get_index_by_NID(name, nid, -1);
  if (i < 0) return fail("the subject has no " + label);
  if (X509_NAME_get_index_by_NID(name, nid, i) >= 0) return fail("the subject has more than one " + label);
  unsigned char* raw = nullptr;
  int len = ASN1_STRING_to_UTF8(&raw, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
  ossl::Owned<unsigned char> utf8(raw);
  if (len < 0) return ossl::fail_openssl("read subject " + label);
  return std::string(reinterpret_cast<const char*>(utf8.get()), static_cast<size_t>(len));
}

Result<std::string> node_id_of(const X509_NAME* name) {
  auto cn = only_entry(name, NID_commonName);
  if (!cn) return tl::unexpected(cn.error());
  if (!valid_node_id(*cn)) return fail("node id " + quoted(*cn) + " does not match " + kNodeIdRule);
  return *cn;
}

Result<std::string> utc_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return ossl::fail_openssl("read notAfter");
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return fail("format notAfter");
  return std::string(buf);
}

// Only keys a TLS peer will accept and that resist forgery: EC of 256 bits or
// more, RSA of 2048 or more.
bool acceptable_node_key(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) return EVP_PKEY_get_bits(key) >= 256;
  if (EVP_PKEY_is_a(key, "RSA")) return EVP_PKEY_get_bits(key) >= 2048;
  return false;
}

}  // namespace

std::string role_name(Role role) {
  switch (role) {
    case Role::Worker: return "worker";
    case Role::Manager: return "manager";
  }
  return "worker";
}

Result<Role> parse_role(const std::string& text) {
  if (text == "worker") return Role::Worker;
  if (text == "manager") return Role::Manager;
  return fail("role " + quoted(text) + " is neither worker nor manager");
}

bool valid_node_id(const std::string& id) {
  if (id.empty() || id.size() > 63 || !lower_alnum(id[0])) return false;
  for (char c : id)
    if (!lower_alnum(c) && c != '-') return false;
  return true;
}

Result<KeyPair> make_key() {
  ossl::ErrorScope scope;
  auto key = new_p256_key();
  if (!key) return tl::unexpected(key.error().wrap("make key"));
  auto pem = ossl::key_to_pem(key->get());
  if (!pem) return tl::unexpected(pem.error().wrap("make key"));
  return KeyPair{*pem};
}

Result<CertAndKey> make_ca(const std::string& cluster_id, int days) {
  ossl::ErrorScope scope;
  const std::string what = "make cluster CA";
  if (!valid_cluster_id(cluster_id))
    return fail(what + ": cluster id " + quoted(cluster_id) + " is not 1 to 47 characters of [A-Za-z0-9._-]");
  if (days < 1 || days > kMaxDays) return fail(what + ": days must be 1 to " + std::to_string(kMaxDays));
  auto key = new_p256_key();
  if (!key) return tl::unexpected(key.error().wrap(what));
  ossl::Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return ossl::fail_openssl(what);
  STACK_TRY_CTX(set_random_serial(cert.get()), what);
  STACK_TRY_CTX(add_name_entry(X509_get_subject_name(cert.get()), NID_commonName, "stack cluster CA " + cluster_id),
                what);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1) return ossl::fail_openssl(what);
  std::time_t t = now();
  STACK_TRY_CTX(set_validity(cert.get(), t - kSkewSeconds, t - kSkewSeconds + days * 86400L), what);
  if (X509_set_pubkey(cert.get(), key->get()) != 1) return ossl::fail_openssl(what + ": set public key");
  X509V3_CTX ctx{};
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);  // self-signed: issuer is subject
  STACK_TRY_CTX(add_ext(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE"), what);
  STACK_TRY_CTX(add_ext(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"), what);
  STACK_TRY_CTX(add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash"), what);
  if (X509_sign(cert.get(), key->get(), EVP_sha256()) <= 0) return ossl::fail_openssl(what + ": sign");
  auto cert_pem = ossl::cert_to_pem(cert.get());
  if (!cert_pem) return tl::unexpected(cert_pem.error().wrap(what));
  auto key_pem = ossl::key_to_pem(key->get());
  if (!key_pem) return tl::unexpected(key_pem.error().wrap(what));
  return CertAndKey{*cert_pem, *key_pem};
}

Result<std::string> cert_digest(const std::string& cert_pem) {
  ossl::ErrorScope scope;
  auto cert = ossl::read_cert(cert_pem, "certificate");
  if (!cert) return tl::unexpected(cert.error().wrap("certificate digest"));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert->get(), EVP_sha256(), md, &len) != 1) return ossl::fail_openssl("certificate digest");
  return hex(md, len);
}

Result<std::string> make_csr(const std::string& key_pem, const std::string& node_id) {
  ossl::ErrorScope scope;
  const std::string what = "make CSR";
  if (!valid_node_id(node_id))
    return fail(what + ": node id " + quoted(node_id) + " does not match " + kNodeIdRule);
  auto key = ossl::read_key(key_pem, "private key");
  if (!key) return tl::unexpected(key.error().wrap(what));
  ossl::Req req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) return ossl::fail_openssl(what);
  STACK_TRY_CTX(add_name_entry(X509_REQ_get_subject_name(req.get()), NID_commonName, node_id), what);
  if (X509_REQ_set_pubkey(req.get(), key->get()) != 1) return ossl::fail_openssl(what + ": set public key");
  if (X509_REQ_sign(req.get(), key->get(), EVP_sha256()) <= 0) return ossl::fail_openssl(what + ": sign");
  auto pem = ossl::req_to_pem(req.get());
  if (!pem) return tl::unexpected(pem.error().wrap(what));
  return *pem;
}

Result<std::string> sign_csr(const CertAndKey& ca, const std::string& csr_pem, const NodeCertSpec& spec) {
  ossl::ErrorScope scope;
  const std::string what = "sign CSR";
  auto ca_cert = ossl::read_cert(ca.cert_pem, "CA certificate");
  if (!ca_cert) return tl::unexpected(ca_cert.error().wrap(what));
  auto ca_key = ossl::read_key(ca.key_pem, "CA key");
  if (!ca_key) return tl::unexpected(ca_key.error().wrap(what));
  if (X509_check_ca(ca_cert->get()) == 0) return fail(what + ": the CA certificate is not a CA");
  if (X509_check_private_key(ca_cert->get(), ca_key->get()) != 1)
    return ossl::fail_openssl(what + ": the CA key does not match the CA certificate");

  auto req = ossl::read_req(csr_pem, "CSR");
  if (!req) return tl::unexpected(req.error().wrap(what));
  // Proof of possession: the request is signed by the key it asks us to certify.
  EVP_PKEY* node_key = X509_REQ_get0_pubkey(req->get());  // owned by the request
  if (node_key == nullptr) return ossl::fail_openssl(what + ": the request carries no usable public key");
  if (X509_REQ_verify(req->get(), node_key) != 1)
    return ossl::fail_openssl(what + ": the request's signature does not verify");
  if (!acceptable_node_key(node_key))
    return fail(what + ": the request's key is neither EC (256+ bits) nor RSA (2048+ bits)");
  // The CN is all we take from the request: its other subject fields and its
  // requested extensions are the requester's wishes, not ours.
  auto node_id = node_id_of(X509_REQ_get_subject_name(req->get()));
  if (!node_id) return tl::unexpected(node_id.error().wrap(what));

  std::time_t t = now();
  std::time_t not_after = t - kSkewSeconds + spec.days * 86400L;
  if (spec.not_after_override) {
    not_after = std::chrono::system_clock::to_time_t(*spec.not_after_override);
  } else if (spec.days < 1 || spec.days > kMaxDays) {
    return fail(what + ": days must be 1 to " + std::to_string(kMaxDays));
  }
  std::time_t not_before = std::min(t - kSkewSeconds, not_after - kSkewSeconds);

  ossl::Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return ossl::fail_openssl(what);
  STACK_TRY_CTX(set_random_serial(cert.get()), what);
  X509_NAME* subject = X509_get_subject_name(cert.get());  // owned by cert
  STACK_TRY_CTX(add_name_entry(subject, NID_commonName, *node_id), what);
  STACK_TRY_CTX(add_name_entry(subject, NID_organizationName, role_name(spec.role)), what);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert->get())) != 1) return ossl::fail_openssl(what);
  STACK_TRY_CTX(set_validity(cert.get(), not_before, not_after), what);
  if (X509_set_pubkey(cert.get(), node_key) != 1) return ossl::fail_openssl(what + ": set public key");

  X509V3_CTX ctx{};
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca_cert->get(), cert.get(), nullptr, nullptr, 0);
  STACK_TRY_CTX(add_ext(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"), what);
  STACK_TRY_CTX(add_ext(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment"), what);
  STACK_TRY_CTX(add_ext(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth"), what);
  STACK_TRY_CTX(add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash"), what);
  STACK_TRY_CTX(add_ext(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"), what);
  STACK_TRY_CTX(add_san(cert.get(), spec), what);
  if (X509_sign(cert.get(), ca_key->get(), EVP_sha256()) <= 0) return ossl::fail_openssl(what + ": sign");
  auto pem = ossl::cert_to_pem(cert.get());
  if (!pem) return tl::unexpected(pem.error().wrap(what));
  return *pem;
}

Result<CertIdentity> verify_node_cert(const std::string& ca_cert_pem, const std::string& cert_pem) {
  ossl::ErrorScope scope;
  const std::string what = "verify node certificate";
  auto ca_cert = ossl::read_cert(ca_cert_pem, "CA certificate");
  if (!ca_cert) return tl::unexpected(ca_cert.error().wrap(what));
  auto cert = ossl::read_cert(cert_pem, "node certificate");
  if (!cert) return tl::unexpected(cert.error().wrap(what));

  // A store holding only our CA: nothing else (the system's roots included) is trusted.
  ossl::Store store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), ca_cert->get()) != 1) return ossl::fail_openssl(what);
  ossl::StoreCtx ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr) != 1 ||
      X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_ANY) != 1)
    return ossl::fail_openssl(what);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    if (err == X509_V_OK) return ossl::fail_openssl(what);
    return fail(what + ": " + X509_verify_cert_error_string(err));
  }
  // The CA itself chains to itself; it is not a node.
  if (X509_check_ca(cert->get()) != 0) return fail(what + ": the certificate is a CA, not a node's");

  const X509_NAME* subject = X509_get_subject_name(cert->get());
  auto node_id = node_id_of(subject);
  if (!node_id) return tl::unexpected(node_id.error().wrap(what));
  auto o = only_entry(subject, NID_organizationName);
  if (!o) return tl::unexpected(o.error().wrap(what));
  auto role = parse_role(*o);
  if (!role) return tl::unexpected(role.error().wrap(what + ": the subject's O"));
  auto not_after = utc_text(X509_get0_notAfter(cert->get()));
  if (!not_after) return tl::unexpected(not_after.error().wrap(what));
  return CertIdentity{*node_id, *role, *not_after};
}

bool key_matches_cert(const std::string& key_pem, const std::string& cert_pem) {
  ossl::ErrorScope scope;
  auto key = ossl::read_key(key_pem, "private key");
  auto cert = ossl::read_cert(cert_pem, "certificate");
  return key && cert && X509_check_private_key(cert->get(), key->get()) == 1;
}

}  // namespace stack::cluster
