// The cluster PKI (orchestrator/cluster/pki.h) as a joining node, a manager
// and an attacker see it. Certificates are inspected with OpenSSL itself, and
// the CA digest is checked against the openssl CLI. Attacker CSRs are built
// here with raw OpenSSL calls (not make_csr, which refuses bad input itself),
// so every refusal below is sign_csr's own.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <utility>

#include "orchestrator/cluster/openssl_handles.h"
#include "orchestrator/cluster/pki.h"

namespace stack::cluster {
namespace {

using Entries = std::vector<std::pair<int, std::string>>;

ossl::PKey key_of(const std::string& pem) { return ossl::read_key(pem, "key").value(); }
ossl::Cert cert_of(const std::string& pem) { return ossl::read_cert(pem, "cert").value(); }
ossl::PKey new_key() { return key_of(make_key().value().key_pem); }

// Every value of `nid` in the certificate's subject.
std::vector<std::string> subject(X509* cert, int nid) {
  std::vector<std::string> out;
  const X509_NAME* name = X509_get_subject_name(cert);
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0; i = X509_NAME_get_index_by_NID(name, nid, i)) {
    const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
  }
  return out;
}

// "DNS:name" / "IP:text" for each subjectAltName entry.
std::vector<std::string> san(X509* cert) {
  std::vector<std::string> out;
  ossl::GeneralNames names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                                         ASN1_STRING_length(gn->d.dNSName)));
    } else if (gn->type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(gn->d.iPAddress);
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(gn->d.iPAddress), text, sizeof text);
      out.push_back(std::string("IP:") + text);
    }
  }
  return out;
}

bool is_ca_by_basic_constraints(X509* cert) {
  ossl::BasicConstraints bc(
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr)));
  return bc && bc->ca != 0;
}

// Passes when `r` is an error whose message contains `part`.
template <class T>
::testing::AssertionResult fails_with(const Result<T>& r, const std::string& part) {
  if (r) return ::testing::AssertionFailure() << "succeeded; expected an error containing \"" << part << "\"";
  if (r.error().message().find(part) == std::string::npos)
    return ::testing::AssertionFailure() << "error \"" << r.error().message() << "\" lacks \"" << part << "\"";
  return ::testing::AssertionSuccess();
}

// A CSR the way an attacker would build it: any subject (set verbatim as
// UTF8String, bypassing OpenSSL's length table), any requested extensions.
std::string raw_csr(EVP_PKEY* key, const Entries& subj, const std::vector<std::pair<int, const char*>>& exts = {}) {
  ossl::Req req(X509_REQ_new());
  X509_REQ_set_version(req.get(), X509_REQ_VERSION_1);
  for (const auto& [nid, value] : subj)
    EXPECT_EQ(1, X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req.get()), nid, V_ASN1_UTF8STRING,
                                            reinterpret_cast<const unsigned char*>(value.data()),
                                            static_cast<int>(value.size()), -1, 0));
  if (!exts.empty()) {
    ossl::ExtStack stack(sk_X509_EXTENSION_new_null());
    X509V3_CTX ctx{};
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
    for (const auto& [nid, value] : exts) {
      ossl::Ext ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
      EXPECT_TRUE(ext) << value;
      EXPECT_GT(sk_X509_EXTENSION_push(stack.get(), ext.get()), 0);
      ext.release();
    }
    EXPECT_EQ(1, X509_REQ_add_extensions(req.get(), stack.get()));
  }
  EXPECT_EQ(1, X509_REQ_set_pubkey(req.get(), key));
  EXPECT_GT(X509_REQ_sign(req.get(), key, EVP_sha256()), 0);
  return ossl::req_to_pem(req.get()).value();
}

// A certificate signed with the CA's key but built by hand, to show what
// verify_node_cert does with subjects sign_csr would never issue.
std::string hand_signed(const CertAndKey& ca, EVP_PKEY* pub, const Entries& subj) {
  ossl::Cert ca_cert = cert_of(ca.cert_pem);
  ossl::PKey ca_key = key_of(ca.key_pem);
  ossl::Cert cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 42);
  for (const auto& [nid, value] : subj)
    X509_NAME_add_entry_by_NID(X509_get_subject_name(cert.get()), nid, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.data()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), pub);
  EXPECT_GT(X509_sign(cert.get(), ca_key.get(), EVP_sha256()), 0);
  return ossl::cert_to_pem(cert.get()).value();
}

// The cluster's CA, made once for the whole suite.
const CertAndKey& ca() {
  static const CertAndKey instance = make_ca("c1").value();
  return instance;
}

// A node's key and a certificate for it from our CA.
std::pair<KeyPair, std::string> node(const std::string& id, const NodeCertSpec& spec = {}) {
  KeyPair key = make_key().value();
  return {key, sign_csr(ca(), make_csr(key.key_pem, id).value(), spec).value()};
}

TEST(ClusterPki, MakeKeyIsPkcs8P256) {
  KeyPair a = make_key().value();
  KeyPair b = make_key().value();
  EXPECT_EQ(0u, a.key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0)) << a.key_pem;
  EXPECT_NE(a.key_pem, b.key_pem);
  ossl::PKey key = key_of(a.key_pem);
  EXPECT_TRUE(EVP_PKEY_is_a(key.get(), "EC"));
  EXPECT_EQ(256, EVP_PKEY_get_bits(key.get()));
}

TEST(ClusterPki, MakeCaIsASelfSignedCaForTheCluster) {
  ossl::Cert cert = cert_of(ca().cert_pem);
  EXPECT_EQ(1, X509_check_ca(cert.get()));
  EXPECT_EQ(X509_V_OK, X509_check_issued(cert.get(), cert.get()));
  EXPECT_EQ(1, X509_verify(cert.get(), X509_get0_pubkey(cert.get())));
  EXPECT_EQ(std::vector<std::string>{"stack cluster CA c1"}, subject(cert.get(), NID_commonName));
  int critical = 0;
  ossl::BasicConstraints bc(
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert.get(), NID_basic_constraints, &critical, nullptr)));
  ASSERT_TRUE(bc);
  EXPECT_TRUE(bc->ca);
  EXPECT_EQ(1, critical);
  EXPECT_EQ(uint32_t{KU_KEY_CERT_SIGN | KU_CRL_SIGN}, X509_get_key_usage(cert.get()));
  EXPECT_NE(nullptr, X509_get0_subject_key_id(cert.get()));
  EXPECT_TRUE(key_matches_cert(ca().key_pem, ca().cert_pem));

  // Valid from an hour ago (clock skew) for exactly 3650 days.
  int days = 0, secs = 0;
  ASSERT_EQ(1, ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notBefore(cert.get())));
  EXPECT_EQ(0, days);
  EXPECT_NEAR(-3600, secs, 120);
  ASSERT_EQ(1, ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())));
  EXPECT_EQ(3650, days);
  EXPECT_EQ(0, secs);

  // A random serial, not a counter: two CAs never share one.
  ossl::Cert other = cert_of(make_ca("c2", 30).value().cert_pem);
  EXPECT_NE(0, ASN1_INTEGER_cmp(X509_get0_serialNumber(cert.get()), X509_get0_serialNumber(other.get())));
  ossl::Bignum serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  EXPECT_GT(BN_num_bits(serial.get()), 64);
}

TEST(ClusterPki, MakeCaRefusesBadClusterIdAndDays) {
  for (const std::string& id : std::vector<std::string>{"", "a b", "x\ny", std::string(48, 'a'), "c/1"}) {
    EXPECT_TRUE(fails_with(make_ca(id), "make cluster CA: cluster id \"")) << id;
  }
  EXPECT_TRUE(make_ca(std::string(47, 'a'), 1));
  EXPECT_TRUE(fails_with(make_ca("c1", 0), "days must be"));
  EXPECT_TRUE(fails_with(make_ca("c1", -5), "days must be"));
}

TEST(ClusterPki, CertDigestMatchesTheOpensslCli) {
  std::string digest = cert_digest(ca().cert_pem).value();
  ASSERT_EQ(64u, digest.size());
  EXPECT_EQ(std::string::npos, digest.find_first_not_of("0123456789abcdef")) << digest;

  std::string path = ::testing::TempDir() + "cluster_pki_XXXXXX";
  int fd = mkstemp(path.data());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(static_cast<ssize_t>(ca().cert_pem.size()), write(fd, ca().cert_pem.data(), ca().cert_pem.size()));
  close(fd);
  std::string cmd = "openssl x509 -in '" + path + "' -outform DER | sha256sum";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(nullptr, p);
  char buf[128] = {};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  EXPECT_EQ(0, pclose(p));
  unlink(path.c_str());
  ASSERT_GE(n, 64u);
  EXPECT_EQ(std::string(buf, 64), digest);

  EXPECT_NE(digest, cert_digest(make_ca("c2").value().cert_pem).value());
}

TEST(ClusterPki, CertDigestRefusesABadPemWithOpensslsReason) {
  EXPECT_TRUE(fails_with(cert_digest("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"),
                         "certificate digest: read certificate"));
  EXPECT_TRUE(fails_with(cert_digest("hello"), "no start line"));
  EXPECT_EQ(0u, ERR_peek_error()) << "the OpenSSL error queue is left empty";
}

TEST(ClusterPki, SignedNodeCertsRoundTripForBothRoles) {
  for (Role role : {Role::Worker, Role::Manager}) {
    SCOPED_TRACE(role_name(role));
    NodeCertSpec spec;
    spec.role = role;
    spec.ip_addresses = {"10.0.0.5", "fd00::1"};
    spec.dns_names = {"node-1.cluster.internal"};
    auto [key, pem] = node("node-1", spec);

    CertIdentity id = verify_node_cert(ca().cert_pem, pem).value();
    EXPECT_EQ("node-1", id.node_id);
    EXPECT_EQ(role, id.role);
    EXPECT_EQ(20u, id.not_after_utc.size()) << id.not_after_utc;
    EXPECT_EQ('T', id.not_after_utc[10]);
    EXPECT_EQ('Z', id.not_after_utc.back());

    ossl::Cert cert = cert_of(pem);
    EXPECT_EQ(std::vector<std::string>{"node-1"}, subject(cert.get(), NID_commonName));
    EXPECT_EQ(std::vector<std::string>{role_name(role)}, subject(cert.get(), NID_organizationName));
    EXPECT_EQ((std::vector<std::string>{"IP:10.0.0.5", "IP:fd00::1", "DNS:node-1.cluster.internal"}), san(cert.get()));
    EXPECT_EQ(1, X509_check_ip_asc(cert.get(), "10.0.0.5", 0));
    EXPECT_EQ(1, X509_check_ip_asc(cert.get(), "fd00::1", 0));
    EXPECT_EQ(0, X509_check_ip_asc(cert.get(), "10.0.0.6", 0));
    EXPECT_EQ(1, X509_check_host(cert.get(), "node-1.cluster.internal", 0, 0, nullptr));
    EXPECT_EQ(0, X509_check_ca(cert.get()));
    EXPECT_FALSE(is_ca_by_basic_constraints(cert.get()));
    EXPECT_EQ(uint32_t{KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT}, X509_get_key_usage(cert.get()));
    EXPECT_EQ(uint32_t{XKU_SSL_SERVER | XKU_SSL_CLIENT}, X509_get_extended_key_usage(cert.get()));
    ossl::Cert ca_cert = cert_of(ca().cert_pem);
    ASSERT_NE(nullptr, X509_get0_authority_key_id(cert.get()));
    EXPECT_EQ(0, ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert.get()),
                                       X509_get0_subject_key_id(ca_cert.get())));

    EXPECT_TRUE(key_matches_cert(key.key_pem, pem));
    EXPECT_FALSE(key_matches_cert(make_key().value().key_pem, pem));
    EXPECT_FALSE(key_matches_cert(ca().key_pem, pem));
    EXPECT_FALSE(key_matches_cert("junk", pem));
  }
  // Two certificates for the same node never share a serial.
  ossl::Cert a = cert_of(node("node-1").second), b = cert_of(node("node-1").second);
  EXPECT_NE(0, ASN1_INTEGER_cmp(X509_get0_serialNumber(a.get()), X509_get0_serialNumber(b.get())));
}

TEST(ClusterPki, NotAfterOverrideAndDays) {
  using namespace std::chrono;
  NodeCertSpec spec;
  spec.not_after_override = sys_days{year{2030} / 1 / 2} + hours{3} + minutes{4} + seconds{5};
  EXPECT_EQ("2030-01-02T03:04:05Z", verify_node_cert(ca().cert_pem, node("n1", spec).second).value().not_after_utc);

  ossl::Cert cert = cert_of(node("n1").second);  // the default: 90 days from an hour ago
  int days = 0, secs = 0;
  ASSERT_EQ(1, ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())));
  EXPECT_EQ(90, days);
  EXPECT_EQ(0, secs);

  spec = {};
  spec.days = 0;
  EXPECT_TRUE(fails_with(sign_csr(ca(), make_csr(make_key().value().key_pem, "n1").value(), spec), "days must be"));
}

TEST(ClusterPki, CsrWithATamperedSignatureIsRefused) {
  std::string csr = make_csr(make_key().value().key_pem, "node-1").value();
  ossl::Req req = ossl::read_req(csr, "csr").value();
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  ossl::Owned<unsigned char> owned(der);
  ASSERT_GT(len, 10);
  std::string bytes(reinterpret_cast<char*>(der), len);
  bytes[len - 5] ^= 0x01;  // inside the ECDSA signature's s, the last field of the request
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  ossl::Req tampered(d2i_X509_REQ(nullptr, &p, len));
  ASSERT_TRUE(tampered);

  EXPECT_TRUE(fails_with(sign_csr(ca(), ossl::req_to_pem(tampered.get()).value(), {}),
                         "sign CSR: the request's signature does not verify"));
  EXPECT_TRUE(sign_csr(ca(), csr, {})) << "the untampered request is fine";
}

TEST(ClusterPki, CsrWhosePublicKeyWasSwappedIsRefused) {
  // An attacker replays someone's signed CSR with their own key in it.
  ossl::Req req = ossl::read_req(make_csr(make_key().value().key_pem, "node-1").value(), "csr").value();
  ossl::PKey mine = new_key();
  ASSERT_EQ(1, X509_REQ_set_pubkey(req.get(), mine.get()));
  EXPECT_TRUE(fails_with(sign_csr(ca(), ossl::req_to_pem(req.get()).value(), {}), "signature does not verify"));
}

TEST(ClusterPki, BadNodeIdsAreRefused) {
  ossl::PKey key = new_key();
  const std::vector<std::string> bad_ids = {"Node_1", "",    std::string(64, 'a'), "../x",
                                            "-lead",  "a.b", "n1\nO=manager"};
  for (const std::string& id : bad_ids) {
    SCOPED_TRACE(id);
    auto r = sign_csr(ca(), raw_csr(key.get(), {{NID_commonName, id}}), {});
    ASSERT_FALSE(r);
    const std::string msg = r.error().message();
    EXPECT_NE(std::string::npos, msg.find("sign CSR: node id \"")) << msg;
    EXPECT_EQ(std::string::npos, msg.find('\n')) << "control characters are escaped: " << msg;
    EXPECT_FALSE(make_csr(ossl::key_to_pem(key.get()).value(), id)) << "make_csr refuses it too";
  }
  EXPECT_TRUE(sign_csr(ca(), raw_csr(key.get(), {{NID_commonName, std::string(63, 'a')}}), {}));

  EXPECT_TRUE(fails_with(sign_csr(ca(), raw_csr(key.get(), {{NID_organizationName, "x"}}), {}), "no CN"));
  EXPECT_TRUE(fails_with(sign_csr(ca(), raw_csr(key.get(), {{NID_commonName, "ok"}, {NID_commonName, "x"}}), {}),
                         "more than one CN"));
}

TEST(ClusterPki, InvalidSanTextIsRefusedAndNamed) {
  std::string csr = make_csr(make_key().value().key_pem, "node-1").value();
  const std::vector<std::string> bad_ips = {"10.0.0.256", "1.2.3.4x",  "not-an-ip", "fd00::1::2", "",
                                            "010.0.0.1",  " 1.2.3.4", std::string("1.2.3.4\0x", 9)};
  for (const std::string& ip : bad_ips) {
    SCOPED_TRACE(ip);
    NodeCertSpec spec;
    spec.ip_addresses = {ip};
    EXPECT_TRUE(fails_with(sign_csr(ca(), csr, spec), "IP address \"" + ip.substr(0, ip.find('\0'))));
  }
  for (const std::string& dns : std::vector<std::string>{"a,IP:1.2.3.4", "", "a b", std::string(254, 'a')}) {
    SCOPED_TRACE(dns);
    NodeCertSpec spec;
    spec.dns_names = {dns};
    EXPECT_TRUE(fails_with(sign_csr(ca(), csr, spec), "DNS name \""));
  }
}

TEST(ClusterPki, CsrExtensionsAndOtherSubjectFieldsAreNotCopied) {
  ossl::PKey key = new_key();
  std::string csr = raw_csr(key.get(),
                            {{NID_commonName, "node-1"}, {NID_organizationName, "manager"},
                             {NID_organizationalUnitName, "admins"}},
                            {{NID_basic_constraints, "critical,CA:TRUE"},
                             {NID_key_usage, "critical,keyCertSign,cRLSign"},
                             {NID_subject_alt_name, "DNS:evil.example,IP:8.8.8.8"}});
  NodeCertSpec spec;  // a worker, with one IP
  spec.ip_addresses = {"10.0.0.5"};
  std::string pem = sign_csr(ca(), csr, spec).value();
  ossl::Cert cert = cert_of(pem);
  EXPECT_EQ(0, X509_check_ca(cert.get()));
  EXPECT_FALSE(is_ca_by_basic_constraints(cert.get()));
  EXPECT_EQ(0u, X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN);
  EXPECT_EQ(std::vector<std::string>{"IP:10.0.0.5"}, san(cert.get()));
  EXPECT_NE(1, X509_check_host(cert.get(), "evil.example", 0, 0, nullptr));
  EXPECT_EQ(std::vector<std::string>{"worker"}, subject(cert.get(), NID_organizationName));
  EXPECT_TRUE(subject(cert.get(), NID_organizationalUnitName).empty());
  EXPECT_EQ(Role::Worker, verify_node_cert(ca().cert_pem, pem).value().role);
}

TEST(ClusterPki, WeakOrOddKeysAreRefused) {
  ossl::PKey rsa1024(EVP_RSA_gen(1024));
  ASSERT_TRUE(rsa1024);
  EXPECT_TRUE(fails_with(sign_csr(ca(), raw_csr(rsa1024.get(), {{NID_commonName, "node-1"}}), {}),
                         "neither EC (256+ bits) nor RSA (2048+ bits)"));
}

TEST(ClusterPki, CertFromAnotherCaDoesNotVerify) {
  CertAndKey other = make_ca("c1").value();  // same cluster id, different key: still a stranger
  std::string csr = make_csr(make_key().value().key_pem, "node-1").value();
  std::string pem = sign_csr(other, csr, {}).value();
  ASSERT_TRUE(verify_node_cert(other.cert_pem, pem));
  EXPECT_TRUE(fails_with(verify_node_cert(ca().cert_pem, pem), "verify node certificate: unable to get local issuer"));
  // Nor does their CA sign with our certificate.
  EXPECT_TRUE(fails_with(sign_csr(CertAndKey{ca().cert_pem, other.key_pem}, csr, {}), "the CA key does not match"));
}

TEST(ClusterPki, ExpiredCertDoesNotVerify) {
  NodeCertSpec spec;
  spec.not_after_override = std::chrono::system_clock::now() - std::chrono::hours(48);
  EXPECT_TRUE(fails_with(verify_node_cert(ca().cert_pem, node("node-1", spec).second), "certificate has expired"));
}

TEST(ClusterPki, CertsThatAreNotNodeCertsAreRefused) {
  ossl::PKey key = new_key();
  auto verify = [&](const Entries& subj) {
    return verify_node_cert(ca().cert_pem, hand_signed(ca(), key.get(), subj));
  };
  EXPECT_TRUE(fails_with(verify({{NID_commonName, "n1"}, {NID_organizationName, "admin"}}),
                         "O: role \"admin\" is neither worker nor manager"));
  EXPECT_TRUE(fails_with(verify({{NID_commonName, "n1"}, {NID_organizationName, "worker"},
                                 {NID_organizationName, "manager"}}),
                         "more than one O"));
  EXPECT_TRUE(fails_with(verify({{NID_commonName, "Root"}, {NID_organizationName, "manager"}}), "node id \"Root\""));
  EXPECT_TRUE(fails_with(verify_node_cert(ca().cert_pem, ca().cert_pem), "is a CA"));
  // The hand-signed shape itself is fine when its subject is.
  EXPECT_TRUE(verify({{NID_commonName, "n1"}, {NID_organizationName, "manager"}}));
}

TEST(ClusterPki, RoleNamesParseBack) {
  EXPECT_EQ("worker", role_name(Role::Worker));
  EXPECT_EQ("manager", role_name(Role::Manager));
  EXPECT_EQ(Role::Worker, parse_role("worker").value());
  EXPECT_EQ(Role::Manager, parse_role("manager").value());
  for (const char* bad : {"", "Manager", "admin", "manager "}) EXPECT_FALSE(parse_role(bad)) << bad;
}

}  // namespace
}  // namespace stack::cluster
