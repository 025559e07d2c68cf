#include "orchestrator/daemon/server/authz_policy.h"

#include <algorithm>

namespace stack::orch {
namespace {

tl::unexpected<Denial> deny(std::string rule, std::string field, std::string reason) {
  return tl::unexpected<Denial>(Denial{std::move(rule), std::move(field), std::move(reason)});
}

constexpr const char* kNonRoot = " for non-root callers";

// A name that becomes a host path component somewhere in the daemon.
AuthzResult check_name(const std::string& field, const std::string& name) {
  if (is_plain_name(name)) return {};
  return deny("names", field, "\"" + name + "\" is not a plain name ([A-Za-z0-9._-], not \".\" or \"..\")");
}

// Bind sources resolve as spec_builder.cc does: relative ones against the
// project's directory (a field of the request, so the caller's choice).
std::string bind_source(const std::string& project_dir, const std::string& source) {
  if (source.empty() || source[0] == '/') return source;
  std::string rel = source.rfind("./", 0) == 0 ? source.substr(2) : source;
  return project_dir + (project_dir.empty() || project_dir.back() == '/' ? "" : "/") + rel;
}

// A host path the request names, normalized and resolved; every failure to
// see where it leads is a refusal under `rule`.
tl::expected<std::string, Denial> host_path(const std::string& rule, const std::string& field, const std::string& path,
                                            const PathResolver& resolve) {
  auto norm = normalize_host_path(path);
  if (!norm) return deny(rule, field, norm.error().message());
  auto real = resolve(*norm);
  if (!real) return deny(rule, field, "cannot resolve " + *norm + ": " + real.error().message());
  return *real;
}

AuthzResult check_mounts(const AuthzPolicy& p, const compose::Project& project, const compose::Service& s,
                         const std::string& where, const PathResolver& resolve) {
  for (size_t i = 0; i < s.volumes.size(); i++) {
    const compose::Mount& m = s.volumes[i];
    std::string field = where + ".volumes[" + std::to_string(i) + "]";
    if (m.type == "tmpfs") continue;
    if (m.type == "volume") {
      // volume_dir() puts the source into <root>/volumes/<stack>_<source>.
      if (!m.source.empty()) {
        if (auto r = check_name(field + ".source", m.source); !r) return r;
      }
      continue;
    }
    if (m.type != "bind") return deny("bind_mounts", field + ".type", "mount type \"" + m.type + "\" is not known to the policy");
    std::string source = bind_source(project.working_dir, m.source);
    auto real = host_path("bind_mounts", field + ".source", source, resolve);
    if (!real) return tl::unexpected(real.error());
    bool inside = std::any_of(p.bind_dirs.begin(), p.bind_dirs.end(),
                              [&](const std::string& dir) { return path_within(*real, dir); });
    if (!inside) {
      std::string shown = *real == source ? source : source + " (" + *real + ")";
      return deny("bind_mounts", field + ".source",
                  "bind mount of " + shown + ": not inside a directory allowed" + kNonRoot);
    }
  }
  return {};
}

AuthzResult check_security_opts(const AuthzPolicy& p, const compose::Service& s, const std::string& where) {
  for (size_t i = 0; i < s.security_opt.size(); i++) {
    const std::string& opt = s.security_opt[i];
    std::string field = where + ".security_opt[" + std::to_string(i) + "]";
    // Split as spec_builder.cc does: "seccomp=x" and "seccomp:x" are the same.
    auto sep = opt.find_first_of("=:");
    std::string key = opt.substr(0, sep), value = sep == std::string::npos ? "" : opt.substr(sep + 1);
    if (key == "no-new-privileges") continue;  // either value confines at least as much as the default
    if (p.unconfined) continue;
    if (key == "seccomp" && value == "unconfined")
      return deny("unconfined", field, "seccomp=unconfined is not allowed" + std::string(kNonRoot));
    // A profile path: the daemon reads that host file as root, and the
    // profile may allow every syscall. Both are as good as unconfined.
    if (key == "seccomp")
      return deny("unconfined", field, "a seccomp profile from a host file is not allowed" + std::string(kNonRoot));
    if ((key == "apparmor" && value == "unconfined") || (key == "label" && value == "disable") ||
        (key == "systempaths" && value == "unconfined"))
      return deny("unconfined", field, "\"" + opt + "\" is not allowed" + std::string(kNonRoot));
    if (key != "apparmor" && key != "label")
      return deny("unconfined", field, "security option \"" + opt + "\" is not known to the policy");
  }
  return {};
}

AuthzResult check_caps(const AuthzPolicy& p, const compose::Service& s, const std::string& where) {
  if (p.cap_add_any) return {};
  for (size_t i = 0; i < s.cap_add.size(); i++) {
    std::string cap = capability_key(s.cap_add[i]);
    if (cap != "ALL" && p.cap_add.count(cap)) continue;
    return deny("cap_add", where + ".cap_add[" + std::to_string(i) + "]",
                "adding " + cap + " is not allowed" + std::string(kNonRoot));
  }
  return {};
}

AuthzResult check_devices(const AuthzPolicy& p, const compose::Service& s, const std::string& where,
                          const PathResolver& resolve) {
  if (p.devices_any) return {};
  for (size_t i = 0; i < s.devices.size(); i++) {
    std::string field = where + ".devices[" + std::to_string(i) + "]";
    // The node stat()s the source, following symlinks: compare resolved paths.
    auto real = host_path("devices", field, s.devices[i].source, resolve);
    if (!real) return tl::unexpected(real.error());
    if (std::find(p.devices.begin(), p.devices.end(), *real) != p.devices.end()) continue;
    return deny("devices", field, "host device " + s.devices[i].source + " is not allowed" + std::string(kNonRoot));
  }
  return {};
}

AuthzResult check_network_mode(const AuthzPolicy& p, const compose::Service& s, const std::string& where) {
  const std::string& mode = s.network_mode;
  std::string field = where + ".network_mode";
  if (mode == "host") {
    if (p.host_namespaces) return {};
    return deny("host_namespaces", field, "the host's network namespace is not allowed" + std::string(kNonRoot));
  }
  // node_local.cc joins <netns dir>/<id>: the id must not be a path.
  for (const char* prefix : {"container:", "service:"})
    if (mode.rfind(prefix, 0) == 0) return check_name(field, mode.substr(std::string(prefix).size()));
  return {};
}

}  // namespace

std::string denial_message(const AuthzPolicy& policy, const Denial& d) {
  std::string where;
  if (d.rule.empty())
    where = "requests the policy cannot check are refused for non-root callers";
  else if (d.rule == "names")
    where = "rule \"names\", always enforced for non-root callers";
  else if (policy.from_file)
    where = "rule \"" + d.rule + "\" in " + policy.source;
  else
    where = "rule \"" + d.rule + "\" of the default policy: " + policy.source + " does not exist";
  return "authorization: " + d.field + ": " + d.reason + " (" + where + ")";
}

AuthzResult check_service(const AuthzPolicy& p, const compose::Project& project, const std::string& key,
                          const PathResolver& resolve) {
  std::string where = "services." + key;
  auto it = project.services.find(key);
  if (it == project.services.end()) return deny("", where, "no such service in the stack; the policy cannot check it");
  const compose::Service& s = it->second;
  // The key names container ids (<stack>-<service>-<slot>-<hex>) and so
  // container dirs and netns files; `name` and container_name name replicas.
  if (auto r = check_name(where, key); !r) return r;
  if (auto r = check_name(where + ".name", s.name); !r) return r;
  if (!s.container_name.empty())
    if (auto r = check_name(where + ".container_name", s.container_name); !r) return r;

  if (s.privileged && !p.privileged)
    return deny("privileged", where + ".privileged", "privileged containers are not allowed" + std::string(kNonRoot));
  // A privileged hook runs with every capability inside the replica.
  for (const auto* hooks : {&s.post_start, &s.pre_stop})
    for (size_t i = 0; i < hooks->size(); i++)
      if ((*hooks)[i].privileged && !p.privileged)
        return deny("privileged",
                    where + (hooks == &s.post_start ? ".post_start[" : ".pre_stop[") + std::to_string(i) + "].privileged",
                    "privileged hooks are not allowed" + std::string(kNonRoot));
  if (auto r = check_network_mode(p, s, where); !r) return r;
  for (const auto& [field, mode] : {std::pair<const char*, const std::string*>{"pid", &s.pid},
                                    {"ipc", &s.ipc}, {"uts", &s.uts}, {"cgroup", &s.cgroup}})
    if (*mode == "host" && !p.host_namespaces)
      return deny("host_namespaces", where + "." + field,
                  std::string("the host's ") + field + " namespace is not allowed" + kNonRoot);
  // Another parent puts the replica in a cgroup of the host's choosing (or
  // another tenant's), outside stack's accounting.
  if (!s.tuning.cgroup_parent.empty() && !p.privileged)
    return deny("privileged", where + ".cgroup_parent",
                "a cgroup_parent is not allowed (the replica would leave stack's cgroup)" + std::string(kNonRoot));
  // A rule like "b *:* rwm" with CAP_MKNOD (a default capability) opens the
  // host's disks: only a policy that allows any device allows rules.
  if (!s.tuning.device_cgroup_rules.empty() && !p.devices_any)
    return deny("devices", where + ".device_cgroup_rules",
                "device cgroup rules are not allowed (they would reach host devices)" + std::string(kNonRoot));
  if (auto r = check_caps(p, s, where); !r) return r;
  if (auto r = check_devices(p, s, where, resolve); !r) return r;
  if (auto r = check_mounts(p, project, s, where, resolve); !r) return r;
  if (auto r = check_security_opts(p, s, where); !r) return r;
  if (!p.privileged_ports)
    for (size_t i = 0; i < s.ports.size(); i++) {
      const compose::PortSpec& port = s.ports[i];
      // published 0 is no host port or an ephemeral one (>= 1024).
      if (port.published == 0 || port.published >= 1024) continue;
      return deny("privileged_ports", where + ".ports[" + std::to_string(i) + "]",
                  "publishing host port " + std::to_string(port.published) + " (below 1024) is not allowed" + kNonRoot);
    }
  if (!p.sysctls)
    for (const auto& [k, v] : s.sysctls)
      if (!is_namespaced_sysctl(k))
        return deny("sysctls", where + ".sysctls." + k,
                    "sysctl " + k + " is not namespaced (it would change the host)" + std::string(kNonRoot));
  return {};
}

AuthzResult check_project(const AuthzPolicy& p, const compose::Project& project, const PathResolver& resolve) {
  // volume_dir(): <root>/volumes/<stack>_<key>, or <root>/volumes/<name> when
  // external; `down -v` removes those directories recursively.
  for (const auto& [key, v] : project.volumes) {
    if (auto r = check_name("volumes." + key, key); !r) return r;
    if (!v.external_name.empty())
      if (auto r = check_name("volumes." + key + ".name", v.external_name); !r) return r;
  }
  for (const auto& [key, n] : project.networks) {
    if (auto r = check_name("networks." + key, key); !r) return r;
    if (!n.external_name.empty())
      if (auto r = check_name("networks." + key + ".name", n.external_name); !r) return r;
  }
  for (const auto& [key, s] : project.services)
    if (auto r = check_service(p, project, key, resolve); !r) return r;
  return {};
}

stack::Result<std::string> normalize_host_path(const std::string& path) {
  if (path.empty() || path[0] != '/') return stack::fail("\"" + path + "\" is not an absolute path");
  if (path.find('\0') != std::string::npos) return stack::fail("path contains a NUL byte");
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t next = path.find('/', i);
    if (next == std::string::npos) next = path.size();
    std::string part = path.substr(i, next - i);
    i = next + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return stack::fail("\"" + path + "\": \"..\" is not allowed in host paths");
    out += "/" + part;
  }
  return out.empty() ? "/" : out;
}

bool path_within(const std::string& path, const std::string& dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

bool is_plain_name(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::string capability_key(const std::string& name) {
  std::string c = name;
  std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  if (c != "ALL" && c.rfind("CAP_", 0) != 0) c = "CAP_" + c;
  return c;
}

bool is_namespaced_sysctl(const std::string& key) {
  static const std::set<std::string> ipc = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",  "kernel.sem",
                                            "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  // The runtime turns dots into slashes under /proc/sys; a key with a slash
  // or ".." is refused there, and here it is simply not namespaced.
  if (key.find('/') != std::string::npos || key.find("..") != std::string::npos) return false;
  if (ipc.count(key)) return true;
  return key.rfind("fs.mqueue.", 0) == 0 || key.rfind("net.", 0) == 0;
}

}  // namespace stack::orch
