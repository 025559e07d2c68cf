// Docker's JSON seccomp profile -> OCI Seccomp. The parser checks every field
// of every rule (also rules that will not apply on this host), so an error
// names the field the user wrote; the resolver is moby's setupSeccomp
// (profiles/seccomp/seccomp_linux.go), rule for rule.
#include "runtime/kernel/seccomp_docker.h"

#include <sys/utsname.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runtime/kernel/seccomp.h"

namespace stack::rt::docker_seccomp {
namespace {

using nlohmann::json;

// Field-naming helpers. `path` is relative to the profile ("syscalls[3].args");
// the caller's origin is prepended once, in parse().
tl::unexpected<Error> bad(const std::string& path, const std::string& what) {
  return fail(path + ": " + what);
}

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string index_of(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// A key that is absent or JSON null is "not set", as Go's decoder treats it.
const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> get_string(const json& v, const std::string& path) {
  if (!v.is_string()) return bad(path, "must be a string");
  return v.get<std::string>();
}

Result<uint64_t> get_uint(const json& v, const std::string& path) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    if (v.get<int64_t>() < 0) return bad(path, "must not be negative");
    return static_cast<uint64_t>(v.get<int64_t>());
  }
  return bad(path, "must be a non-negative integer");
}

Result<uint32_t> get_u32(const json& v, const std::string& path) {
  auto u = get_uint(v, path);
  if (!u) return tl::unexpected(u.error());
  if (*u > std::numeric_limits<uint32_t>::max()) return bad(path, "is out of range");
  return static_cast<uint32_t>(*u);
}

Result<std::vector<std::string>> get_strings(const json& v, const std::string& path) {
  if (!v.is_array()) return bad(path, "must be an array of strings");
  std::vector<std::string> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return bad(index_of(path, i), "must be a string");
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

// One decimal component of "<kernel>.<major>": moby parses each as uint8.
bool parse_u8(std::string_view s, unsigned& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out <= 255;
}

Result<std::optional<KernelVersion>> parse_min_kernel(const json& v, const std::string& path) {
  auto s = get_string(v, path);
  if (!s) return tl::unexpected(s.error());
  if (s->empty()) return std::optional<KernelVersion>{};
  const std::string expected = "invalid kernel version \"" + *s + "\", expected \"<kernel>.<major>\"";
  auto dot = s->find('.');
  if (dot == std::string::npos || s->find('.', dot + 1) != std::string::npos) return bad(path, expected);
  KernelVersion k;
  if (!parse_u8(std::string_view(*s).substr(0, dot), k.kernel) ||
      !parse_u8(std::string_view(*s).substr(dot + 1), k.major))
    return bad(path, expected);
  if (k.kernel == 0 && k.major == 0) return bad(path, expected + ": version cannot be 0.0");
  return std::optional<KernelVersion>{k};
}

Result<Filter> parse_filter(const json& v, const std::string& path) {
  if (!v.is_object()) return bad(path, "must be an object");
  Filter f;
  if (const json* c = field(v, "caps")) {
    auto caps = get_strings(*c, join(path, "caps"));
    if (!caps) return tl::unexpected(caps.error());
    f.caps = std::move(*caps);
  }
  if (const json* a = field(v, "arches")) {
    auto arches = get_strings(*a, join(path, "arches"));
    if (!arches) return tl::unexpected(arches.error());
    f.arches = std::move(*arches);
  }
  if (const json* k = field(v, "minKernel")) {
    auto mk = parse_min_kernel(*k, join(path, "minKernel"));
    if (!mk) return tl::unexpected(mk.error());
    f.min_kernel = *mk;
  }
  return f;
}

Result<SeccompArg> parse_arg(const json& v, const std::string& path) {
  if (!v.is_object()) return bad(path, "must be an object");
  SeccompArg arg;
  if (const json* i = field(v, "index")) {
    auto idx = get_u32(*i, join(path, "index"));
    if (!idx) return tl::unexpected(idx.error());
    arg.index = *idx;
  }
  if (const json* x = field(v, "value")) {
    auto val = get_uint(*x, join(path, "value"));
    if (!val) return tl::unexpected(val.error());
    arg.value = *val;
  }
  if (const json* x = field(v, "valueTwo")) {
    auto val = get_uint(*x, join(path, "valueTwo"));
    if (!val) return tl::unexpected(val.error());
    arg.value_two = *val;
  }
  const json* op = field(v, "op");
  if (!op) return bad(join(path, "op"), "is required");
  auto ops = get_string(*op, join(path, "op"));
  if (!ops) return tl::unexpected(ops.error());
  arg.op = std::move(*ops);
  return arg;
}

Result<Rule> parse_rule(const json& v, const std::string& path) {
  if (!v.is_object()) return bad(path, "must be an object");
  Rule r;
  const json* name = field(v, "name");
  const json* names = field(v, "names");
  if (name && names) return bad(path, "both 'name' and 'names' are set; use one");
  if (name) {
    auto n = get_string(*name, join(path, "name"));
    if (!n) return tl::unexpected(n.error());
    r.call.names = {std::move(*n)};
  } else if (names) {
    auto n = get_strings(*names, join(path, "names"));
    if (!n) return tl::unexpected(n.error());
    r.call.names = std::move(*n);
  }
  if (r.call.names.empty()) return bad(join(path, "names"), "is required (a non-empty array)");

  const json* action = field(v, "action");
  if (!action) return bad(join(path, "action"), "is required");
  auto a = get_string(*action, join(path, "action"));
  if (!a) return tl::unexpected(a.error());
  r.call.action = std::move(*a);

  if (const json* e = field(v, "errnoRet")) {
    auto er = get_u32(*e, join(path, "errnoRet"));
    if (!er) return tl::unexpected(er.error());
    r.call.errno_ret = *er;
  }
  if (const json* args = field(v, "args")) {
    const std::string ap = join(path, "args");
    if (!args->is_array()) return bad(ap, "must be an array");
    for (size_t i = 0; i < args->size(); ++i) {
      auto arg = parse_arg((*args)[i], index_of(ap, i));
      if (!arg) return tl::unexpected(arg.error());
      r.call.args.push_back(std::move(*arg));
    }
  }
  if (const json* inc = field(v, "includes")) {
    auto f = parse_filter(*inc, join(path, "includes"));
    if (!f) return tl::unexpected(f.error());
    r.includes = std::move(*f);
  }
  if (const json* exc = field(v, "excludes")) {
    auto f = parse_filter(*exc, join(path, "excludes"));
    if (!f) return tl::unexpected(f.error());
    r.excludes = std::move(*f);
  }
  // Names and semantics of action/op/index, shared with the OCI path.
  STACK_TRY(validate_seccomp_syscall(r.call, path));
  return r;
}

Result<Profile> parse_profile(const json& j) {
  if (!j.is_object()) return fail("must be a JSON object");
  Profile p;
  const json* da = field(j, "defaultAction");
  if (!da) {
    // moby treats a profile with neither defaultAction nor syscalls as "no
    // seccomp"; an OCI profile cannot say that, so ask for the explicit form.
    return bad("defaultAction", "is required (to run without seccomp use seccomp=unconfined)");
  }
  auto a = get_string(*da, "defaultAction");
  if (!a) return tl::unexpected(a.error());
  p.default_action = std::move(*a);
  if (const json* e = field(j, "defaultErrnoRet")) {
    auto er = get_u32(*e, "defaultErrnoRet");
    if (!er) return tl::unexpected(er.error());
    p.default_errno_ret = *er;
  }
  if (const json* ar = field(j, "architectures")) {
    auto arches = get_strings(*ar, "architectures");
    if (!arches) return tl::unexpected(arches.error());
    p.architectures = std::move(*arches);
  }
  if (const json* am = field(j, "archMap")) {
    if (!am->is_array()) return bad("archMap", "must be an array");
    for (size_t i = 0; i < am->size(); ++i) {
      const std::string ep = index_of("archMap", i);
      const json& e = (*am)[i];
      if (!e.is_object()) return bad(ep, "must be an object");
      ArchMapEntry entry;
      const json* arch = field(e, "architecture");
      if (!arch) return bad(join(ep, "architecture"), "is required");
      auto an = get_string(*arch, join(ep, "architecture"));
      if (!an) return tl::unexpected(an.error());
      entry.arch = std::move(*an);
      if (const json* sub = field(e, "subArchitectures")) {
        auto subs = get_strings(*sub, join(ep, "subArchitectures"));
        if (!subs) return tl::unexpected(subs.error());
        entry.sub_arches = std::move(*subs);
      }
      p.arch_map.push_back(std::move(entry));
    }
  }
  if (!p.architectures.empty() && !p.arch_map.empty())
    return fail("both 'architectures' and 'archMap' are set; use one");
  if (const json* f = field(j, "flags")) {
    auto flags = get_strings(*f, "flags");
    if (!flags) return tl::unexpected(flags.error());
    p.flags = std::move(*flags);
  }
  // Default action, explicit architectures and flags: the OCI validator names
  // them the same way ("defaultAction: unknown action ..."). archMap entries
  // for other hosts are not checked: Docker's own profile names arches this
  // libseccomp may not know (SCMP_ARCH_LOONGARCH64).
  Seccomp top;
  top.default_action = p.default_action;
  top.default_errno_ret = p.default_errno_ret;
  top.architectures = p.architectures;
  top.flags = p.flags;
  STACK_TRY(validate_seccomp(top, ""));  // "" origin: parse() prefixes ours
  if (const json* s = field(j, "syscalls")) {
    if (!s->is_array()) return bad("syscalls", "must be an array");
    p.syscalls.reserve(s->size());
    for (size_t i = 0; i < s->size(); ++i) {
      auto r = parse_rule((*s)[i], index_of("syscalls", i));
      if (!r) return tl::unexpected(r.error());
      p.syscalls.push_back(std::move(*r));
    }
  }
  return p;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// moby's Loop body: excludes first (any match drops the rule), then includes
// (every condition must hold). Note includes.caps needs *all* listed caps.
bool applies(const Rule& r, const std::vector<std::string>& caps, const Host& host) {
  if (contains(r.excludes.arches, host.arch)) return false;
  for (const auto& c : r.excludes.caps)
    if (contains(caps, c)) return false;
  if (r.excludes.min_kernel && host.kernel >= *r.excludes.min_kernel) return false;
  if (!r.includes.arches.empty() && !contains(r.includes.arches, host.arch)) return false;
  for (const auto& c : r.includes.caps)
    if (!contains(caps, c)) return false;
  if (r.includes.min_kernel && host.kernel < *r.includes.min_kernel) return false;
  return true;
}

// The release's leading "<kernel>.<major>", as moby's GetKernelVersion reads
// "%d.%d%s": "6.18.44-fc-v595" -> 6.18.
KernelVersion parse_release(const char* release) {
  KernelVersion k;
  std::string_view s(release);
  auto dot = s.find('.');
  if (dot == std::string_view::npos) return k;
  std::from_chars(s.data(), s.data() + dot, k.kernel);
  std::from_chars(s.data() + dot + 1, s.data() + s.size(), k.major);
  return k;
}

}  // namespace

Host current_host() {
  // The kernel cannot change under a running process: read uname once.
  static const Host host = [] {
    Host h;
#if defined(__x86_64__)
    h.arch = "amd64";
    h.seccomp_arch = "SCMP_ARCH_X86_64";
#elif defined(__aarch64__)
    h.arch = "arm64";
    h.seccomp_arch = "SCMP_ARCH_AARCH64";
#elif defined(__i386__)
    h.arch = "x86";
    h.seccomp_arch = "SCMP_ARCH_X86";
#elif defined(__riscv) && __riscv_xlen == 64
    h.arch = "riscv64";
    h.seccomp_arch = "SCMP_ARCH_RISCV64";
#endif
    struct utsname u {};
    if (::uname(&u) == 0) h.kernel = parse_release(u.release);
    return h;
  }();
  return host;
}

Result<Profile> parse(const nlohmann::json& j, const std::string& origin) {
  auto p = parse_profile(j);
  if (!p) return tl::unexpected(p.error().wrap(origin));
  return p;
}

Seccomp resolve(const Profile& profile, const std::vector<std::string>& capabilities, const Host& host) {
  Seccomp out;
  out.default_action = profile.default_action;
  out.default_errno_ret = profile.default_errno_ret;
  out.flags = profile.flags;
  out.architectures = profile.architectures;
  if (!host.seccomp_arch.empty()) {
    for (const auto& e : profile.arch_map) {
      if (e.arch != host.seccomp_arch) continue;
      out.architectures.push_back(e.arch);
      out.architectures.insert(out.architectures.end(), e.sub_arches.begin(), e.sub_arches.end());
      break;
    }
  }
  for (const auto& r : profile.syscalls)
    if (applies(r, capabilities, host)) out.syscalls.push_back(r.call);
  return out;
}

}  // namespace stack::rt::docker_seccomp

namespace stack::rt {

Result<Seccomp> seccomp_from_docker_profile(const nlohmann::json& profile,
                                            const std::vector<std::string>& capabilities,
                                            const std::string& origin) {
  auto p = docker_seccomp::parse(profile, origin);
  if (!p) return tl::unexpected(p.error());
  return docker_seccomp::resolve(*p, capabilities, docker_seccomp::current_host());
}

Seccomp default_seccomp_profile(const std::vector<std::string>& capabilities) {
  return docker_seccomp::resolve(docker_seccomp::builtin_default_profile(), capabilities,
                                 docker_seccomp::current_host());
}

}  // namespace stack::rt
