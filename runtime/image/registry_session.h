// One registry repository as the client talks to it: which base URL answers
// (mirror, https, or plain http for loopback/insecure hosts), how to
// authenticate, and how registry error bodies become one-line messages.
// Immutable after open() except for the Authenticator's token cache, so one
// Session is shared by all transfer threads (each with its own http::Client).
#pragma once

#include <memory>
#include <string>

#include "runtime/image/auth.h"
#include "runtime/image/http.h"
#include "runtime/image/registry.h"

namespace stack::img {

// Error codes internal to the registry client (Error::code is otherwise an
// errno). They are cleared before errors leave pull/push/login.
inline constexpr int kHttpFatal = -1;      // a definitive registry answer (404, 400, ...)
inline constexpr int kHttpTransient = -2;  // 5xx, 429: worth retrying

bool is_transient(const Error& e);
// Drops the internal codes so Error::message() prints no strerror for them.
Error public_error(Error e);

struct Session {
  std::string domain;  // as in the reference ("docker.io", "localhost:5000")
  std::string host;    // host[:port] contacted
  std::string base;    // "https://host:port"
  std::string path;    // "library/alpine"
  std::string scope;   // "repository:library/alpine:pull[,push]"
  http::TlsOptions tls;
  std::shared_ptr<Authenticator> auth;

  // Finds a working base URL for `domain` (mirrors first when `use_mirrors`).
  static Result<Session> open(const std::string& domain, const std::string& path, bool push,
                              const RegistryConfig& cfg, bool use_mirrors,
                              const std::optional<Credentials>& explicit_creds = std::nullopt);

  std::string url(const std::string& suffix) const { return base + "/v2/" + path + suffix; }

  // Sends with the cached Authorization; answers one 401 challenge and
  // retries. A final 401 becomes "unauthorized: ... (run `stack login`)".
  Result<http::Response> send(http::Client& client, http::Request req, const http::BodySink& sink = nullptr);

  // "manifest unknown", "unauthorized: authentication required", "HTTP 500"
  Error registry_error(const http::Response& resp, const std::string& what) const;
};

}  // namespace stack::img
