#include "orchestrator/daemon/server/authz_policy_file.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

#include "runtime/kernel/capabilities.h"
#include "base/fd.h"

namespace stack::orch {
namespace {

using nlohmann::json;

const char* const kKeys[] = {"version",    "privileged",       "host_namespaces", "cap_add", "devices",
                             "bind_mounts", "unconfined", "privileged_ports", "sysctls"};

// "file:line:col" of a byte offset (1-based, as nlohmann counts).
std::string position(const std::string& text, const std::string& source, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i + 1 < byte && i < text.size(); i++) {
    if (text[i] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  return source + ":" + std::to_string(line) + ":" + std::to_string(col);
}

// nlohmann keeps no positions for values; the policy is one flat object, so
// the line of `"key":` in the text is the line of that key. Good enough to
// point an administrator at the line, and only used in error messages.
std::string key_position(const std::string& text, const std::string& source, const std::string& key) {
  std::string quoted = "\"" + key + "\"";
  for (size_t at = text.find(quoted); at != std::string::npos; at = text.find(quoted, at + 1)) {
    size_t after = text.find_first_not_of(" \t\r\n", at + quoted.size());
    if (after != std::string::npos && text[after] == ':') {
      size_t line = 1;
      for (size_t i = 0; i < at; i++) line += text[i] == '\n';
      return source + ":" + std::to_string(line);
    }
  }
  return source;
}

struct Reader {
  const std::string& text;
  const std::string& source;
  const PathResolver& resolve;

  tl::unexpected<stack::Error> bad(const std::string& key, const std::string& what) const {
    return stack::fail(key_position(text, source, key) + ": \"" + key + "\"" + what);
  }

  stack::Result<void> boolean(const json& j, const std::string& key, bool& out) const {
    auto it = j.find(key);
    if (it == j.end()) return {};
    if (!it->is_boolean()) return bad(key, ": expected true or false, not " + std::string(it->type_name()));
    out = it->get<bool>();
    return {};
  }

  // true / false, or a list of strings. Returns the list (empty for false).
  stack::Result<std::vector<std::string>> bool_or_list(const json& j, const std::string& key, bool& any,
                                                    bool list_allowed_only = false) const {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end()) return out;
    if (it->is_boolean() && !list_allowed_only) {
      any = it->get<bool>();
      return out;
    }
    if (!it->is_array())
      return bad(key, list_allowed_only ? ": expected a list of strings"
                                        : ": expected true, false or a list of strings, not " +
                                              std::string(it->type_name()));
    for (size_t i = 0; i < it->size(); i++) {
      if (!(*it)[i].is_string())
        return bad(key, "[" + std::to_string(i) + "]: expected a string, not " + std::string((*it)[i].type_name()));
      out.push_back((*it)[i].get<std::string>());
    }
    return out;
  }

  // A host path of the policy: normalized like the request's paths, then
  // resolved, so a symlinked /srv compares equal to where it leads.
  stack::Result<std::string> host_path(const std::string& key, size_t i, const std::string& path) const {
    std::string where = "[" + std::to_string(i) + "]: ";
    auto norm = normalize_host_path(path);
    if (!norm) return bad(key, where + norm.error().message());
    auto real = resolve(*norm);
    if (!real) return bad(key, where + real.error().message());
    return *real;
  }
};

}  // namespace

stack::Result<AuthzPolicy> parse_authz_policy(const std::string& text, const std::string& source,
                                           const PathResolver& resolve) {
  // Duplicate keys: nlohmann keeps the last one; a policy with
  // "privileged": false ... "privileged": true reads two ways, so refuse.
  std::map<std::string, int> seen;
  std::string duplicate;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && ++seen[parsed.get<std::string>()] == 2 && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  json j;
  try {
    j = json::parse(text, cb);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: x" -> "x"
    if (auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    return stack::fail(position(text, source, e.byte) + ": invalid JSON: " + what);
  }
  if (!j.is_object()) return stack::fail(source + ": expected a JSON object {\"privileged\": false, ...}");
  Reader r{text, source, resolve};
  if (!duplicate.empty()) return r.bad(duplicate, ": given twice");
  for (auto& [k, v] : j.items())
    if (std::find(std::begin(kKeys), std::end(kKeys), k) == std::end(kKeys)) {
      std::string known;
      for (const char* key : kKeys) known += std::string(known.empty() ? "" : ", ") + key;
      return r.bad(k, ": unknown key (known: " + known + ")");
    }
  if (auto it = j.find("version"); it != j.end() && !(it->is_number_integer() && it->get<int64_t>() == 1))
    return r.bad("version", ": only version 1 is known");

  AuthzPolicy p;
  p.source = source;
  p.from_file = true;
  STACK_TRY(r.boolean(j, "privileged", p.privileged));
  STACK_TRY(r.boolean(j, "host_namespaces", p.host_namespaces));
  STACK_TRY(r.boolean(j, "unconfined", p.unconfined));
  STACK_TRY(r.boolean(j, "privileged_ports", p.privileged_ports));
  STACK_TRY(r.boolean(j, "sysctls", p.sysctls));

  auto caps = r.bool_or_list(j, "cap_add", p.cap_add_any);
  if (!caps) return tl::unexpected(caps.error());
  for (size_t i = 0; i < caps->size(); i++) {
    std::string cap = capability_key((*caps)[i]);
    if (cap == "ALL") {
      p.cap_add_any = true;
      continue;
    }
    if (!rt::capability_from_name(cap))
      return r.bad("cap_add", "[" + std::to_string(i) + "]: unknown capability \"" + (*caps)[i] + "\"");
    p.cap_add.insert(cap);
  }

  auto devices = r.bool_or_list(j, "devices", p.devices_any);
  if (!devices) return tl::unexpected(devices.error());
  for (size_t i = 0; i < devices->size(); i++) {
    auto real = r.host_path("devices", i, (*devices)[i]);
    if (!real) return tl::unexpected(real.error());
    p.devices.push_back(*real);
  }

  bool unused = false;
  auto dirs = r.bool_or_list(j, "bind_mounts", unused, true);
  if (!dirs) return tl::unexpected(dirs.error());
  for (size_t i = 0; i < dirs->size(); i++) {
    auto real = r.host_path("bind_mounts", i, (*dirs)[i]);
    if (!real) return tl::unexpected(real.error());
    p.bind_dirs.push_back(*real);
  }
  return p;
}

stack::Result<AuthzPolicy> load_authz_policy(const std::string& path, bool required, const PathResolver& resolve) {
  stack::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT && !required) {
      AuthzPolicy p;  // every rule denied: the safe default
      p.source = path;
      return p;
    }
    return stack::fail_errno("authorization policy " + path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return stack::fail_errno("authorization policy " + path);
  if (!S_ISREG(st.st_mode)) return stack::fail("authorization policy " + path + ": not a regular file");
  if (st.st_uid != ::geteuid() || (st.st_mode & 022))
    return stack::fail("authorization policy " + path + ": must be owned by uid " + std::to_string(::geteuid()) +
                        " and not writable by group or others (chown root " + path + "; chmod 644 " + path + ")");
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return stack::fail_errno("read " + path);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return parse_authz_policy(text, path, resolve);
}

stack::Result<std::string> resolve_host_path(const std::string& path) {
  std::string head = path, tail;
  for (;;) {
    char buf[PATH_MAX];
    if (::realpath(head.c_str(), buf)) {
      std::string real = buf;
      if (tail.empty()) return real;
      return (real == "/" ? "" : real) + tail;
    }
    if (errno != ENOENT) return stack::fail_errno("realpath " + head);
    // A dangling symlink would lead wherever its target appears later:
    // refuse rather than guess.
    struct stat st {};
    if (::lstat(head.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
      return stack::fail(head + " is a symlink to a missing path");
    auto slash = head.rfind('/');
    if (slash == std::string::npos || head == "/") return stack::fail("realpath " + path + ": no existing parent");
    tail = head.substr(slash) + tail;
    head = slash == 0 ? "/" : head.substr(0, slash);
  }
}

}  // namespace stack::orch
