// Image references, parsed and normalised as Docker's distribution/reference
// (ParseNormalizedNamed) does, so a name means the same image here as in
// `docker pull`:
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [ domain "/" ] path-component { "/" path-component }
//   domain    := host-component { "." host-component } [ ":" port ]
//   path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag       := [\w][\w.-]{0,127}
// The first component is a domain only when it contains '.' or ':', is
// "localhost", or has uppercase letters; otherwise the image is on docker.io,
// where one-component names live under "library/".
#include "runtime/image/reference.h"

#include <cctype>
#include <vector>

#include "runtime/image/digest.h"

namespace stack::img {

namespace {

constexpr const char* kDefaultDomain = "docker.io";
constexpr const char* kLegacyDomain = "index.docker.io";
constexpr const char* kOfficialPrefix = "library/";
constexpr size_t kNameMax = 255;

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

// [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
bool valid_path_component(const std::string& c) {
  size_t i = 0, n = c.size();
  if (n == 0 || !lower_alnum(c[0])) return false;
  while (i < n) {
    while (i < n && lower_alnum(c[i])) ++i;
    if (i == n) return true;
    // A separator, then at least one alnum.
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < n && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < n && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (i == n || !lower_alnum(c[i])) return false;
  }
  return true;
}

// ([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])
bool valid_host_component(const std::string& c) {
  if (c.empty()) return false;
  auto alnum = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
  if (!alnum(c.front()) || !alnum(c.back())) return false;
  for (char ch : c)
    if (!alnum(ch) && ch != '-') return false;
  return true;
}

bool valid_domain(const std::string& d) {
  std::string host = d, port;
  if (!d.empty() && d[0] == '[') {  // [IPv6]
    auto close = d.find(']');
    if (close == std::string::npos) return false;
    std::string inner = d.substr(1, close - 1);
    if (inner.empty()) return false;
    for (char ch : inner)
      if (!std::isxdigit(static_cast<unsigned char>(ch)) && ch != ':') return false;
    std::string rest = d.substr(close + 1);
    if (rest.empty()) return true;
    if (rest[0] != ':') return false;
    port = rest.substr(1);
    if (port.empty()) return false;
    for (char ch : port)
      if (!std::isdigit(static_cast<unsigned char>(ch))) return false;
    return true;
  }
  auto colon = d.find(':');
  if (colon != std::string::npos) {
    host = d.substr(0, colon);
    port = d.substr(colon + 1);
    if (port.empty()) return false;
    for (char ch : port)
      if (!std::isdigit(static_cast<unsigned char>(ch))) return false;
  }
  for (const auto& c : split(host, '.'))
    if (!valid_host_component(c)) return false;
  return true;
}

bool valid_tag(const std::string& t) {
  if (t.empty() || t.size() > 128 || !word_char(t[0])) return false;
  for (char c : t)
    if (!word_char(c) && c != '.' && c != '-') return false;
  return true;
}

bool is_64_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string to_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<Reference> parse_reference(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return stack::fail("invalid reference \"" + text + "\": " + why);
  };
  if (text.empty()) return bad("empty reference");
  if (is_64_hex(text)) return bad("cannot specify 64-byte hexadecimal strings as a repository name");

  Reference ref;
  std::string name = text;
  if (auto at = text.find('@'); at != std::string::npos) {
    name = text.substr(0, at);
    auto d = parse_digest(text.substr(at + 1));
    if (!d) return bad(d.error().context);
    ref.digest = d->string();
  }
  auto colon = name.rfind(':');
  auto slash = name.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    std::string tag = name.substr(colon + 1);
    name = name.substr(0, colon);
    if (tag.empty()) return bad("empty tag");
    if (tag.size() > 128) return bad("tag is longer than 128 characters");
    if (!valid_tag(tag)) return bad("invalid tag \"" + tag + "\"");
    ref.tag = tag;
  }
  if (name.empty()) return bad("empty repository name");
  if (name.size() > kNameMax) return bad("repository name is longer than 255 characters");

  // splitDockerDomain.
  std::string remainder = name;
  auto first_slash = name.find('/');
  std::string first = first_slash == std::string::npos ? "" : name.substr(0, first_slash);
  if (first_slash == std::string::npos ||
      (first.find_first_of(".:") == std::string::npos && first != "localhost" && to_lower(first) == first)) {
    ref.domain = kDefaultDomain;
  } else {
    ref.domain = first;
    remainder = name.substr(first_slash + 1);
    if (!valid_domain(ref.domain)) return bad("invalid domain \"" + ref.domain + "\"");
  }
  if (ref.domain == kLegacyDomain) ref.domain = kDefaultDomain;
  if (remainder.empty()) return bad("empty repository path");
  for (const auto& comp : split(remainder, '/')) {
    if (comp.empty()) return bad("empty repository path component");
    if (!valid_path_component(comp)) {
      if (to_lower(comp) != comp && valid_path_component(to_lower(comp)))
        return bad("repository name must be lowercase");
      return bad("invalid repository path component \"" + comp + "\"");
    }
  }
  if (ref.domain == kDefaultDomain && remainder.find('/') == std::string::npos)
    remainder = kOfficialPrefix + remainder;
  ref.path = remainder;
  if (ref.domain.size() + 1 + ref.path.size() > kNameMax)
    return bad("repository name is longer than 255 characters");
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

namespace {
std::string with_suffix(std::string name, const Reference& r) {
  if (!r.tag.empty()) name += ":" + r.tag;
  if (!r.digest.empty()) name += "@" + r.digest;
  return name;
}
}  // namespace

std::string Reference::string() const { return with_suffix(repository(), *this); }

std::string Reference::familiar() const {
  std::string name = repository();
  if (domain == kDefaultDomain) {
    name = path;
    // "library/alpine" -> "alpine", but "library/a/b" stays as is (Docker's rule).
    if (name.rfind(kOfficialPrefix, 0) == 0 && name.find('/', std::string(kOfficialPrefix).size()) == std::string::npos)
      name = name.substr(std::string(kOfficialPrefix).size());
  }
  return with_suffix(name, *this);
}

}  // namespace stack::img
