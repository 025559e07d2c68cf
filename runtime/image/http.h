// A small blocking HTTP/1.1 client for the registry protocol: one request per
// connection, TLS through OpenSSL (system CAs in /etc/ssl/certs plus an
// optional extra CA file), redirects followed (blob GETs redirect to object
// storage), chunked bodies, and per-operation timeouts. Boost.Beast stays in
// http.cc (pimpl) so including this header costs nothing.
//
// A Client is not thread-safe: each download thread owns its own Client.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"

namespace stack::img::http {

using stack::Error;
using stack::Result;

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // "127.0.0.1", "registry-1.docker.io", "::1"
  std::string port;    // always set: "443", "80" or explicit
  std::string target;  // "/v2/..." including the query
  std::string origin() const;  // "https://host:port"
};
Result<Url> parse_url(const std::string& text);
// `location` as sent in a Location header, resolved against `base`.
Result<std::string> resolve_url(const std::string& base, const std::string& location);
bool is_loopback_host(const std::string& host);  // "localhost", 127.0.0.0/8, ::1

struct TlsOptions {
  std::string ca_file;  // extra trusted CA (PEM), added to the system store
  bool verify = true;   // false only for registries configured insecure
  // Trust ca_file alone, not the system store (a private PKI: the cluster's
  // join endpoint must be signed by the cluster's CA, not by any public one).
  bool ca_only = false;
  // A client certificate and its key (PEM), for a server that asks for one
  // (a cluster node's endpoint authenticates managers by theirs).
  std::string cert_file;
  std::string key_file;
};

struct Response;

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;       // sent when body_file is empty
  std::string body_file;  // stream this file as the body (blob uploads)
  int timeout_s = 60;     // per connect/handshake/read/write operation
  bool follow_redirects = true;
  // With a sink: called once a 2xx response's headers are in, before any of
  // its body reaches the sink (a resumed download checks 206 vs 200 here).
  std::function<Result<>(const Response&)> on_headers;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // keys lowercased
  std::string body;       // when no sink took it (capped at 16 MiB)
  std::string final_url;  // after redirects
  std::string header(const std::string& lower_name) const;
};

// Receives the body of a 2xx response as it arrives; an error aborts the
// transfer and is returned by send().
using BodySink = std::function<Result<>(const char* data, size_t n)>;

// Error codes set on transport failures so callers can decide to retry:
// Error::code is ECONNREFUSED/ETIMEDOUT/ECONNRESET/EPIPE/EIO (truncated body)
// for transient ones, EPROTO for TLS failures.
class Client {
 public:
  explicit Client(TlsOptions tls = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Returns any HTTP status as a Response; fails only on transport errors.
  // With a sink, a 2xx body goes to the sink instead of Response::body.
  Result<Response> send(const Request& req, const BodySink& sink = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stack::img::http
