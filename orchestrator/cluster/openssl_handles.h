// The one home for OpenSSL plumbing in cluster/: unique_ptr aliases that own
// OpenSSL handles (so no path frees by hand), the error-queue discipline, and
// PEM <-> handle conversions over memory BIOs. pki.cc, join_token.cc and the
// tests include it; nothing here touches files or the network.
//
// Error queue: OpenSSL reports failures by pushing onto a per-thread queue.
// Every public entry point of cluster/ opens an ErrorScope, which empties the
// queue on entry (so a stale error from an unrelated call is never reported as
// ours) and on exit (so we leave nothing behind for the caller's next call).
// fail_openssl() reads the queue before the scope's destructor runs.
#pragma once

#include <memory>
#include <string>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/error.h"

namespace stack::cluster::ossl {

// Calls the OpenSSL free function Fn; unique_ptr never calls it with nullptr.
template <auto Fn>
struct Free {
  template <class T>
  void operator()(T* p) const {
    Fn(p);
  }
};

using PKey = std::unique_ptr<EVP_PKEY, Free<&EVP_PKEY_free>>;
using PKeyCtx = std::unique_ptr<EVP_PKEY_CTX, Free<&EVP_PKEY_CTX_free>>;
using Cert = std::unique_ptr<X509, Free<&X509_free>>;
using Req = std::unique_ptr<X509_REQ, Free<&X509_REQ_free>>;
using Name = std::unique_ptr<X509_NAME, Free<&X509_NAME_free>>;
using Ext = std::unique_ptr<X509_EXTENSION, Free<&X509_EXTENSION_free>>;
using Store = std::unique_ptr<X509_STORE, Free<&X509_STORE_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, Free<&X509_STORE_CTX_free>>;
using Bio = std::unique_ptr<BIO, Free<&BIO_free_all>>;
using Bignum = std::unique_ptr<BIGNUM, Free<&BN_free>>;
using OctetString = std::unique_ptr<ASN1_OCTET_STRING, Free<&ASN1_OCTET_STRING_free>>;
using IA5String = std::unique_ptr<ASN1_IA5STRING, Free<&ASN1_IA5STRING_free>>;
using GeneralName = std::unique_ptr<GENERAL_NAME, Free<&GENERAL_NAME_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, Free<&GENERAL_NAMES_free>>;
using BasicConstraints = std::unique_ptr<BASIC_CONSTRAINTS, Free<&BASIC_CONSTRAINTS_free>>;

// STACK_OF(X509_EXTENSION) owns its elements: pop_free frees each, then the stack.
struct ExtStackFree {
  void operator()(STACK_OF(X509_EXTENSION) * s) const { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); }
};
using ExtStack = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtStackFree>;

// Memory OpenSSL allocated for us (ASN1_STRING_to_UTF8's output, ...).
struct OpenSSLFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, OpenSSLFree>;

// Empties this thread's OpenSSL error queue on entry and on exit (see above).
class ErrorScope {
 public:
  ErrorScope() { ERR_clear_error(); }
  ~ErrorScope() { ERR_clear_error(); }
  ErrorScope(const ErrorScope&) = delete;
  ErrorScope& operator=(const ErrorScope&) = delete;
};

// OpenSSL's text for the oldest queued error (usually the root cause, e.g.
// "error:0480006C:PEM routines::no start line"), "" when the queue is empty;
// empties the queue either way.
inline std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  std::string out;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out;
}

// fail(context), with OpenSSL's reason appended when it gave one.
inline tl::unexpected<Error> fail_openssl(const std::string& context) {
  std::string reason = openssl_reason();
  return fail(reason.empty() ? context : context + ": " + reason);
}

// A read-only BIO over `text`; the string must outlive the BIO.
inline Bio mem_bio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Everything written to a memory BIO, as a string.
inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

// Never let OpenSSL fall back to prompting on the terminal for a passphrase:
// an encrypted PEM is simply an error here.
inline int no_passphrase(char*, int, int, void*) { return 0; }

inline Result<Cert> read_cert(const std::string& pem, const std::string& what) {
  Bio bio = mem_bio(pem);
  if (!bio) return fail_openssl("read " + what);
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
  if (!cert) return fail_openssl("read " + what + ": not a PEM certificate");
  return cert;
}

inline Result<Req> read_req(const std::string& pem, const std::string& what) {
  Bio bio = mem_bio(pem);
  if (!bio) return fail_openssl("read " + what);
  Req req(PEM_read_bio_X509_REQ(bio.get(), nullptr, no_passphrase, nullptr));
  if (!req) return fail_openssl("read " + what + ": not a PEM certificate request");
  return req;
}

inline Result<PKey> read_key(const std::string& pem, const std::string& what) {
  Bio bio = mem_bio(pem);
  if (!bio) return fail_openssl("read " + what);
  PKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) return fail_openssl("read " + what + ": not an unencrypted PEM private key");
  return key;
}

inline Result<std::string> cert_to_pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return fail_openssl("write certificate PEM");
  return bio_text(bio.get());
}

inline Result<std::string> req_to_pem(X509_REQ* req) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req) != 1) return fail_openssl("write certificate request PEM");
  return bio_text(bio.get());
}

// PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted: the caller decides where it lives.
inline Result<std::string> key_to_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return fail_openssl("write private key PEM");
  return bio_text(bio.get());
}

}  // namespace stack::cluster::ossl
