// Registry authentication: WWW-Authenticate challenges (Bearer token service
// or Basic), and credentials kept in Docker's config.json format so `stack
// login` and `docker login` share one file:
//   {"auths": {"localhost:5000": {"auth": base64("user:password")}}}
// docker.io is stored under "https://index.docker.io/v1/" as Docker does.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/base64.h"
#include "runtime/image/http.h"
#include "runtime/image/reference.h"

namespace stack::img {

struct Challenge {
  std::string scheme;                         // "bearer", "basic" (lowercased)
  std::map<std::string, std::string> params;  // realm, service, scope, error
};
// Parses one header value that may carry several challenges:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"
std::vector<Challenge> parse_www_authenticate(const std::string& header);

// Error::code of Authenticator::answer when the registry or its token
// service refuses the credentials (or anonymous access): not an errno.
inline constexpr int kAuthRefused = -3;

struct Credentials {
  std::string user, password;
};

// "" -> $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json.
std::string default_auth_file();
// nullopt when the file or the host's entry is absent (anonymous access).
Result<std::optional<Credentials>> load_credentials(const std::string& host, const std::string& path = "");
// Adds or replaces the host's entry, keeping everything else in the file;
// written 0600 via a temp file and rename.
Result<> save_login(const std::string& host, const std::string& user, const std::string& password,
                    const std::string& path = "");

// Answers challenges for one registry host and caches the resulting
// Authorization header per scope. Thread-safe.
class Authenticator {
 public:
  Authenticator(std::string host, std::optional<Credentials> creds, http::TlsOptions tls)
      : host_(std::move(host)), creds_(std::move(creds)), tls_(std::move(tls)) {}
  bool has_credentials() const { return creds_.has_value(); }
  // Cached header for `scope` ("" when none yet).
  std::string cached(const std::string& scope);
  // Handles a 401's WWW-Authenticate for `scope` ("repository:a/b:pull").
  // Returns the Authorization header value to retry with.
  Result<std::string> answer(const std::string& www_authenticate, const std::string& scope);

 private:
  std::string host_;
  std::optional<Credentials> creds_;
  http::TlsOptions tls_;
  std::mutex mu_;
  std::map<std::string, std::string> cache_;
};

}  // namespace stack::img
