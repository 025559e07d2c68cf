#include "runtime/image/registry_session.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace stack::img {

using stack::fail;

bool is_transient(const Error& e) {
  switch (e.code) {
    case kHttpTransient:
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case ETIMEDOUT:
    case EPIPE:
    case EIO:
    case EHOSTUNREACH:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

Error public_error(Error e) {
  // EPROTO: the context already carries OpenSSL's reason ("certificate verify failed").
  if (e.code < 0 || e.code == EPROTO) e.code = 0;
  return e;
}

namespace {

std::string code_words(std::string code) {
  for (auto& c : code) c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return code;
}

}  // namespace

Error Session::registry_error(const http::Response& resp, const std::string& what) const {
  std::string msg;
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("errors") && j["errors"].is_array() &&
      !j["errors"].empty() && j["errors"][0].is_object()) {
    const auto& e = j["errors"][0];
    std::string code = e.contains("code") && e["code"].is_string() ? code_words(e["code"].get<std::string>()) : "";
    std::string m = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
    if (m.empty()) msg = code;
    else if (code.empty() || m.rfind(code, 0) == 0) msg = m;
    else msg = code + ": " + m;
  }
  if (msg.empty()) {
    if (resp.status == 404) msg = what + ": not found";
    else if (resp.status == 401) msg = "unauthorized: authentication required";
    else if (resp.status == 403) msg = "denied: requested access to the resource is denied";
    else msg = what + ": HTTP " + std::to_string(resp.status);
  }
  int code = (resp.status >= 500 || resp.status == 429 || resp.status == 408) ? kHttpTransient : kHttpFatal;
  if (resp.status >= 500) msg += " (HTTP " + std::to_string(resp.status) + ")";
  return Error{code, msg};
}

Result<http::Response> Session::send(http::Client& client, http::Request req, const http::BodySink& sink) {
  auto with_auth = [&](const std::string& header) {
    std::erase_if(req.headers, [](const auto& h) { return h.first == "Authorization"; });
    if (!header.empty()) req.headers.emplace_back("Authorization", header);
  };
  with_auth(auth->cached(scope));
  auto resp = client.send(req, sink);
  if (!resp || resp->status != 401) return resp;
  const std::string hint = auth->has_credentials()
                               ? " (the credentials for " + domain + " were rejected; run `stack login " + domain + "`)"
                               : " (no credentials for " + domain + "; run `stack login " + domain + "`)";
  std::string www = resp->header("www-authenticate");
  if (www.empty()) return tl::unexpected(Error{kHttpFatal, registry_error(*resp, "").context + hint});
  auto header = auth->answer(www, scope);
  if (!header) {
    if (header.error().code == kAuthRefused) {
      Error e = registry_error(*resp, "");
      if (auth->has_credentials()) e.context = header.error().context;
      return tl::unexpected(Error{kHttpFatal, e.context + hint});
    }
    return tl::unexpected(header.error());
  }
  with_auth(*header);
  resp = client.send(req, sink);
  if (resp && resp->status == 401) return tl::unexpected(Error{kHttpFatal, registry_error(*resp, "").context + hint});
  return resp;
}

Result<Session> Session::open(const std::string& domain, const std::string& path, bool push,
                              const RegistryConfig& cfg, bool use_mirrors,
                              const std::optional<Credentials>& explicit_creds) {
  struct Candidate {
    std::string base, host;
  };
  std::vector<Candidate> candidates;
  if (use_mirrors) {
    if (auto m = cfg.mirrors.find(domain); m != cfg.mirrors.end()) {
      std::string b = m->second;
      while (!b.empty() && b.back() == '/') b.pop_back();
      if (b.find("://") == std::string::npos) b = "https://" + b;
      auto u = http::parse_url(b);
      if (!u) return tl::unexpected(u.error().wrap("mirror for " + domain));
      candidates.push_back({b, b.substr(b.find("://") + 3)});
    }
  }
  const std::string host = domain == "docker.io" ? "registry-1.docker.io" : domain;
  candidates.push_back({"https://" + host, host});
  const bool insecure = std::find(cfg.insecure.begin(), cfg.insecure.end(), domain) != cfg.insecure.end() ||
                        std::find(cfg.insecure.begin(), cfg.insecure.end(), host) != cfg.insecure.end();
  if (insecure || http::is_loopback_host(host)) candidates.push_back({"http://" + host, host});

  std::optional<Error> first_error;
  for (const auto& c : candidates) {
    Session s;
    s.domain = domain;
    s.host = c.host;
    s.base = c.base;
    s.path = path;
    s.scope = "repository:" + path + (push ? ":pull,push" : ":pull");
    s.tls.ca_file = cfg.ca_file;
    s.tls.verify = !(std::find(cfg.insecure.begin(), cfg.insecure.end(), c.host) != cfg.insecure.end() ||
                     (c.host == host && insecure));
    std::optional<Credentials> creds = explicit_creds;
    if (!creds) {
      auto loaded = load_credentials(c.host == host ? domain : c.host, cfg.auth_file);
      if (!loaded) return tl::unexpected(loaded.error());
      creds = *loaded;
    }
    s.auth = std::make_shared<Authenticator>(domain, creds, s.tls);
    // Ping /v2/: any answer of the v2 API (200, or 401 asking for auth)
    // proves this base URL speaks to the registry.
    http::Client client(s.tls);
    http::Request req;
    req.url = s.base + "/v2/";
    req.timeout_s = 30;
    auto resp = client.send(req);
    if (resp && (resp->status == 200 || resp->status == 401)) return s;
    Error e = resp ? Error{kHttpFatal, "registry " + c.base + " answered /v2/ with HTTP " +
                                           std::to_string(resp->status)}
                   : resp.error();
    if (!first_error) first_error = e;
  }
  return tl::unexpected(*first_error);
}

}  // namespace stack::img
