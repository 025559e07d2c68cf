#include "runtime/image/auth.h"
#include "base/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/fd.h"

namespace stack::img {

using stack::fail;
using stack::fail_errno;

namespace {

constexpr const char* kDockerHubKey = "https://index.docker.io/v1/";

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_docker_hub(const std::string& host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

std::string url_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::vector<Challenge> parse_www_authenticate(const std::string& h) {
  std::vector<Challenge> out;
  size_t i = 0, n = h.size();
  auto skip_ws = [&] {
    while (i < n && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) ++i;
  };
  while (true) {
    skip_ws();
    if (i >= n) break;
    size_t start = i;
    while (i < n && h[i] != ' ' && h[i] != ',' && h[i] != '=') ++i;
    std::string token = h.substr(start, i - start);
    if (i < n && h[i] == '=' && !out.empty()) {
      // A parameter of the current challenge.
      ++i;
      std::string value;
      if (i < n && h[i] == '"') {
        ++i;
        while (i < n && h[i] != '"') {
          if (h[i] == '\\' && i + 1 < n) ++i;
          value += h[i++];
        }
        ++i;
      } else {
        while (i < n && h[i] != ',' && h[i] != ' ') value += h[i++];
      }
      out.back().params[lower(token)] = value;
      continue;
    }
    out.push_back(Challenge{lower(token), {}});
  }
  return out;
}

std::string default_auth_file() {
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) return std::string(d) + "/config.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.docker/config.json";
}

Result<std::optional<Credentials>> load_credentials(const std::string& host, const std::string& path_in) {
  const std::string path = path_in.empty() ? default_auth_file() : path_in;
  if (access(path.c_str(), F_OK) != 0) return std::optional<Credentials>{};
  auto text = io::read_file(path);
  if (!text) return tl::unexpected(text.error());
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("parse " + path + ": not valid JSON");
  auto auths = j.find("auths");
  if (auths == j.end() || !auths->is_object()) return std::optional<Credentials>{};
  std::vector<std::string> keys = {host, "https://" + host, "http://" + host, "https://" + host + "/v1/",
                                   "https://" + host + "/v2/"};
  if (is_docker_hub(host)) keys.insert(keys.begin(), {kDockerHubKey, "index.docker.io", "docker.io"});
  for (const auto& k : keys) {
    auto e = auths->find(k);
    if (e == auths->end() || !e->is_object()) continue;
    std::string user, pass;
    if (auto a = e->find("auth"); a != e->end() && a->is_string() && !a->get<std::string>().empty()) {
      auto dec = base64_decode(a->get<std::string>());
      if (!dec) return fail(path + ": auths[\"" + k + "\"].auth: invalid base64");
      auto colon = dec->find(':');
      if (colon == std::string::npos) return fail(path + ": auths[\"" + k + "\"].auth: no \"user:password\"");
      user = dec->substr(0, colon);
      pass = dec->substr(colon + 1);
    } else {
      if (auto u = e->find("username"); u != e->end() && u->is_string()) user = u->get<std::string>();
      if (auto p = e->find("password"); p != e->end() && p->is_string()) pass = p->get<std::string>();
    }
    if (user.empty()) continue;
    return std::optional<Credentials>{Credentials{user, pass}};
  }
  return std::optional<Credentials>{};
}

Result<> save_login(const std::string& host, const std::string& user, const std::string& password,
                    const std::string& path_in) {
  const std::string path = path_in.empty() ? default_auth_file() : path_in;
  nlohmann::json j = nlohmann::json::object();
  if (access(path.c_str(), F_OK) == 0) {
    auto text = io::read_file(path);
    if (!text) return tl::unexpected(text.error());
    j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("parse " + path + ": not valid JSON; not overwriting it");
  } else {
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      std::string dir = path.substr(0, slash);
      if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return fail_errno("create " + dir);
    }
  }
  if (!j.contains("auths") || !j["auths"].is_object()) j["auths"] = nlohmann::json::object();
  const std::string key = is_docker_hub(host) ? kDockerHubKey : host;
  j["auths"][key] = {{"auth", base64_encode(user + ":" + password)}};
  const std::string body = j.dump(1, '\t') + "\n";
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail_errno("create " + tmp);
  stack::UniqueFd guard(fd);
  size_t off = 0;
  while (off < body.size()) {
    ssize_t n = ::write(fd, body.data() + off, body.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto e = fail_errno("write " + tmp);
      unlink(tmp.c_str());
      return e;
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = fail_errno("save " + path);
    unlink(tmp.c_str());
    return e;
  }
  return {};
}

std::string Authenticator::cached(const std::string& scope) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(scope);
  return it == cache_.end() ? std::string() : it->second;
}

Result<std::string> Authenticator::answer(const std::string& www_authenticate, const std::string& scope) {
  auto challenges = parse_www_authenticate(www_authenticate);
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (const auto& c : challenges) {
    if (c.scheme == "bearer" && !bearer) bearer = &c;
    if (c.scheme == "basic" && !basic) basic = &c;
  }
  std::string header;
  if (bearer) {
    auto realm = bearer->params.find("realm");
    if (realm == bearer->params.end() || realm->second.empty())
      return fail("registry " + host_ + ": Bearer challenge without a realm");
    std::string url = realm->second;
    char sep = url.find('?') == std::string::npos ? '?' : '&';
    if (auto s = bearer->params.find("service"); s != bearer->params.end()) {
      url += sep + std::string("service=") + url_escape(s->second);
      sep = '&';
    }
    std::string want = scope;
    if (auto s = bearer->params.find("scope"); want.empty() && s != bearer->params.end()) want = s->second;
    if (!want.empty()) url += sep + std::string("scope=") + url_escape(want);
    http::Request req;
    req.url = url;
    if (creds_) req.headers.emplace_back("Authorization", "Basic " + base64_encode(creds_->user + ":" + creds_->password));
    http::Client client(tls_);
    auto resp = client.send(req);
    if (!resp) return tl::unexpected(resp.error().wrap("get token from " + realm->second));
    if (resp->status == 401 || resp->status == 403)
      return fail(creds_ ? "unauthorized: incorrect username or password for " + host_
                         : "unauthorized: the token service refused anonymous access to " + host_,
                  kAuthRefused);
    if (resp->status != 200)
      return fail("get token from " + realm->second + ": HTTP " + std::to_string(resp->status));
    auto j = nlohmann::json::parse(resp->body, nullptr, false);
    std::string token;
    if (!j.is_discarded() && j.is_object()) {
      if (auto t = j.find("token"); t != j.end() && t->is_string()) token = t->get<std::string>();
      if (auto t = j.find("access_token"); token.empty() && t != j.end() && t->is_string())
        token = t->get<std::string>();
    }
    if (token.empty()) return fail("get token from " + realm->second + ": response has no token");
    header = "Bearer " + token;
  } else if (basic) {
    if (!creds_) return fail("unauthorized: no credentials for " + host_, kAuthRefused);
    header = "Basic " + base64_encode(creds_->user + ":" + creds_->password);
  } else {
    return fail("registry " + host_ + ": unsupported authentication challenge \"" + www_authenticate + "\"");
  }
  std::lock_guard lock(mu_);
  cache_[scope] = header;
  return header;
}

}  // namespace stack::img
