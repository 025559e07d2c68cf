// config.json <-> Spec. A small field reader keeps the JSON path of what is
// being read so every error names it: "config.json: process.args[1]: must be a
// string".
#include "runtime/oci/spec.h"
#include "base/io.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace stack::rt {
namespace {

using json = nlohmann::json;

// Thrown only inside this file and converted to an Error at the boundary;
// nlohmann itself throws, so one catch covers both.
struct FieldError {
  std::string path;
  std::string msg;
};

[[noreturn]] void bad(const std::string& path, const std::string& msg) { throw FieldError{path, msg}; }

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

const json* field(const json& obj, const std::string& key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string get_string(const json& v, const std::string& path) {
  if (!v.is_string()) bad(path, "must be a string");
  return v.get<std::string>();
}

bool get_bool(const json& v, const std::string& path) {
  if (!v.is_boolean()) bad(path, "must be a boolean");
  return v.get<bool>();
}

int64_t get_int(const json& v, const std::string& path) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  bad(path, "must be an integer");
}

uint64_t get_uint(const json& v, const std::string& path) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  bad(path, "must be a non-negative integer");
}

uint32_t get_u32(const json& v, const std::string& path) {
  uint64_t x = get_uint(v, path);
  if (x > 0xffffffffULL) bad(path, "out of range");
  return static_cast<uint32_t>(x);
}

uint16_t get_u16(const json& v, const std::string& path) {
  uint64_t x = get_uint(v, path);
  if (x > 0xffff) bad(path, "out of range");
  return static_cast<uint16_t>(x);
}

std::vector<std::string> get_strings(const json& v, const std::string& path) {
  if (!v.is_array()) bad(path, "must be an array of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); i++) out.push_back(get_string(v[i], path + "[" + std::to_string(i) + "]"));
  return out;
}

std::map<std::string, std::string> get_string_map(const json& v, const std::string& path) {
  if (!v.is_object()) bad(path, "must be an object of strings");
  std::map<std::string, std::string> out;
  for (auto& [k, val] : v.items()) out[k] = get_string(val, join(path, k));
  return out;
}

void require_object(const json& v, const std::string& path) {
  if (!v.is_object()) bad(path, "must be an object");
}

template <class F>
void each(const json& v, const std::string& path, F&& f) {
  if (!v.is_array()) bad(path, "must be an array");
  for (size_t i = 0; i < v.size(); i++) f(v[i], path + "[" + std::to_string(i) + "]");
}

#define OPT(obj, key, path, expr)                     \
  if (const json* v = field(obj, key)) {              \
    const std::string p = join(path, key);            \
    (void)p;                                          \
    expr;                                             \
  }

User parse_user(const json& j, const std::string& path) {
  require_object(j, path);
  User u;
  OPT(j, "uid", path, u.uid = get_u32(*v, p));
  OPT(j, "gid", path, u.gid = get_u32(*v, p));
  OPT(j, "umask", path, u.umask = get_u32(*v, p));
  OPT(j, "additionalGids", path, each(*v, p, [&](const json& g, const std::string& gp) {
        u.additional_gids.push_back(get_u32(g, gp));
      }));
  return u;
}

Process parse_process_at(const json& j, const std::string& path) {
  require_object(j, path);
  Process pr;
  OPT(j, "terminal", path, pr.terminal = get_bool(*v, p));
  OPT(j, "consoleSize", path, {
    require_object(*v, p);
    ConsoleSize cs;
    const json& o = *v;
    const std::string cp = p;
    OPT(o, "height", cp, cs.height = get_u32(*v, p));
    OPT(o, "width", cp, cs.width = get_u32(*v, p));
    pr.console_size = cs;
  });
  OPT(j, "user", path, pr.user = parse_user(*v, p));
  const json* args = field(j, "args");
  if (!args) bad(join(path, "args"), "is required");
  pr.args = get_strings(*args, join(path, "args"));
  if (pr.args.empty()) bad(join(path, "args"), "must not be empty");
  OPT(j, "env", path, pr.env = get_strings(*v, p));
  OPT(j, "cwd", path, pr.cwd = get_string(*v, p));
  if (pr.cwd.empty() || pr.cwd[0] != '/') bad(join(path, "cwd"), "must be an absolute path");
  OPT(j, "capabilities", path, {
    require_object(*v, p);
    Capabilities c;
    const json& o = *v;
    const std::string cp = p;
    OPT(o, "bounding", cp, c.bounding = get_strings(*v, p));
    OPT(o, "effective", cp, c.effective = get_strings(*v, p));
    OPT(o, "inheritable", cp, c.inheritable = get_strings(*v, p));
    OPT(o, "permitted", cp, c.permitted = get_strings(*v, p));
    OPT(o, "ambient", cp, c.ambient = get_strings(*v, p));
    pr.capabilities = c;
  });
  OPT(j, "rlimits", path, each(*v, p, [&](const json& r, const std::string& rp) {
        require_object(r, rp);
        Rlimit rl;
        const json* t = field(r, "type");
        if (!t) bad(join(rp, "type"), "is required");
        rl.type = get_string(*t, join(rp, "type"));
        OPT(r, "hard", rp, rl.hard = get_uint(*v, join(rp, "hard")));
        OPT(r, "soft", rp, rl.soft = get_uint(*v, join(rp, "soft")));
        pr.rlimits.push_back(rl);
      }));
  OPT(j, "noNewPrivileges", path, pr.no_new_privileges = get_bool(*v, p));
  OPT(j, "oomScoreAdj", path, {
    int64_t x = get_int(*v, p);
    if (x < -1000 || x > 1000) bad(p, "must be between -1000 and 1000");
    pr.oom_score_adj = static_cast<int>(x);
  });
  OPT(j, "apparmorProfile", path, pr.apparmor_profile = get_string(*v, p));
  OPT(j, "selinuxLabel", path, pr.selinux_label = get_string(*v, p));
  return pr;
}

std::vector<IdMapping> parse_idmaps(const json& j, const std::string& path) {
  std::vector<IdMapping> out;
  each(j, path, [&](const json& m, const std::string& mp) {
    require_object(m, mp);
    IdMapping im;
    OPT(m, "containerID", mp, im.container_id = get_u32(*v, p));
    OPT(m, "hostID", mp, im.host_id = get_u32(*v, p));
    OPT(m, "size", mp, im.size = get_u32(*v, p));
    if (im.size == 0) bad(join(mp, "size"), "must be positive");
    out.push_back(im);
  });
  return out;
}

// major and minor are required for every device entry (runtime-spec).
template <class T>
void device_numbers(const json& d, const std::string& path, T& out) {
  require_object(d, path);
  const json* major = field(d, "major");
  if (!major) bad(join(path, "major"), "is required");
  out.major = get_int(*major, join(path, "major"));
  const json* minor = field(d, "minor");
  if (!minor) bad(join(path, "minor"), "is required");
  out.minor = get_int(*minor, join(path, "minor"));
  if (out.major < 0 || out.minor < 0) bad(path, "major and minor must not be negative");
}

BlockIoResources parse_block_io(const json& j, const std::string& path) {
  require_object(j, path);
  BlockIoResources b;
  OPT(j, "weight", path, b.weight = get_u16(*v, p));
  OPT(j, "leafWeight", path, b.leaf_weight = get_u16(*v, p));
  OPT(j, "weightDevice", path, each(*v, p, [&](const json& d, const std::string& dp) {
        WeightDevice wd;
        device_numbers(d, dp, wd);
        OPT(d, "weight", dp, wd.weight = get_u16(*v, p));
        OPT(d, "leafWeight", dp, wd.leaf_weight = get_u16(*v, p));
        b.weight_device.push_back(wd);
      }));
  auto throttles = [&](const char* key, std::vector<ThrottleDevice>& into) {
    OPT(j, key, path, each(*v, p, [&](const json& d, const std::string& dp) {
          ThrottleDevice td;
          device_numbers(d, dp, td);
          const json* rate = field(d, "rate");
          if (!rate) bad(join(dp, "rate"), "is required");
          td.rate = get_uint(*rate, join(dp, "rate"));
          into.push_back(td);
        }));
  };
  throttles("throttleReadBpsDevice", b.throttle_read_bps_device);
  throttles("throttleWriteBpsDevice", b.throttle_write_bps_device);
  throttles("throttleReadIOPSDevice", b.throttle_read_iops_device);
  throttles("throttleWriteIOPSDevice", b.throttle_write_iops_device);
  return b;
}

Resources parse_resources(const json& j, const std::string& path) {
  require_object(j, path);
  Resources r;
  OPT(j, "memory", path, {
    require_object(*v, p);
    MemoryResources m;
    const json& o = *v;
    const std::string mp = p;
    OPT(o, "limit", mp, m.limit = get_int(*v, p));
    OPT(o, "reservation", mp, m.reservation = get_int(*v, p));
    OPT(o, "swap", mp, m.swap = get_int(*v, p));
    OPT(o, "swappiness", mp, m.swappiness = get_uint(*v, p));
    OPT(o, "disableOOMKiller", mp, m.disable_oom_killer = get_bool(*v, p));
    OPT(o, "kernel", mp, m.kernel = get_int(*v, p));
    OPT(o, "kernelTCP", mp, m.kernel_tcp = get_int(*v, p));
    r.memory = m;
  });
  OPT(j, "cpu", path, {
    require_object(*v, p);
    CpuResources c;
    const json& o = *v;
    const std::string cp = p;
    OPT(o, "shares", cp, c.shares = get_uint(*v, p));
    OPT(o, "quota", cp, c.quota = get_int(*v, p));
    OPT(o, "period", cp, c.period = get_uint(*v, p));
    OPT(o, "realtimeRuntime", cp, c.realtime_runtime = get_int(*v, p));
    OPT(o, "realtimePeriod", cp, c.realtime_period = get_uint(*v, p));
    OPT(o, "cpus", cp, c.cpus = get_string(*v, p));
    OPT(o, "mems", cp, c.mems = get_string(*v, p));
    r.cpu = c;
  });
  OPT(j, "pids", path, {
    require_object(*v, p);
    PidsResources pr;
    const json& o = *v;
    const std::string pp = p;
    OPT(o, "limit", pp, pr.limit = get_int(*v, p));
    r.pids = pr;
  });
  OPT(j, "devices", path, each(*v, p, [&](const json& d, const std::string& dp) {
        require_object(d, dp);
        DeviceCgroupRule rule;
        const json* allow = field(d, "allow");
        if (!allow) bad(join(dp, "allow"), "is required");
        rule.allow = get_bool(*allow, join(dp, "allow"));
        OPT(d, "type", dp, rule.type = get_string(*v, p));
        OPT(d, "major", dp, rule.major = get_int(*v, p));
        OPT(d, "minor", dp, rule.minor = get_int(*v, p));
        OPT(d, "access", dp, rule.access = get_string(*v, p));
        for (char c : rule.access)
          if (c != 'r' && c != 'w' && c != 'm') bad(join(dp, "access"), "must be a subset of \"rwm\"");
        r.devices.push_back(rule);
      }));
  OPT(j, "blockIO", path, r.block_io = parse_block_io(*v, p));
  OPT(j, "hugepageLimits", path, each(*v, p, [&](const json& h, const std::string& hp) {
        require_object(h, hp);
        HugepageLimit hl;
        const json* size = field(h, "pageSize");
        if (!size) bad(join(hp, "pageSize"), "is required");
        hl.page_size = get_string(*size, join(hp, "pageSize"));
        const json* limit = field(h, "limit");
        if (!limit) bad(join(hp, "limit"), "is required");
        hl.limit = get_uint(*limit, join(hp, "limit"));
        r.hugepage_limits.push_back(hl);
      }));
  OPT(j, "network", path, {
    require_object(*v, p);
    NetworkResources n;
    const json& o = *v;
    const std::string np = p;
    OPT(o, "classID", np, n.class_id = get_u32(*v, p));
    OPT(o, "priorities", np, each(*v, p, [&](const json& e, const std::string& ep) {
          require_object(e, ep);
          InterfacePriority ip;
          const json* name = field(e, "name");
          if (!name) bad(join(ep, "name"), "is required");
          ip.name = get_string(*name, join(ep, "name"));
          OPT(e, "priority", ep, ip.priority = get_u32(*v, p));
          n.priorities.push_back(ip);
        }));
    r.network = n;
  });
  OPT(j, "unified", path, r.unified = get_string_map(*v, p));
  return r;
}

Seccomp parse_seccomp(const json& j, const std::string& path) {
  require_object(j, path);
  Seccomp s;
  const json* da = field(j, "defaultAction");
  if (!da) bad(join(path, "defaultAction"), "is required");
  s.default_action = get_string(*da, join(path, "defaultAction"));
  OPT(j, "defaultErrnoRet", path, s.default_errno_ret = get_u32(*v, p));
  OPT(j, "architectures", path, s.architectures = get_strings(*v, p));
  OPT(j, "flags", path, s.flags = get_strings(*v, p));
  OPT(j, "syscalls", path, each(*v, p, [&](const json& sc, const std::string& sp) {
        require_object(sc, sp);
        SeccompSyscall call;
        const json* names = field(sc, "names");
        if (!names) bad(join(sp, "names"), "is required");
        call.names = get_strings(*names, join(sp, "names"));
        const json* action = field(sc, "action");
        if (!action) bad(join(sp, "action"), "is required");
        call.action = get_string(*action, join(sp, "action"));
        OPT(sc, "errnoRet", sp, call.errno_ret = get_u32(*v, p));
        OPT(sc, "args", sp, each(*v, p, [&](const json& a, const std::string& ap) {
              require_object(a, ap);
              SeccompArg arg;
              OPT(a, "index", ap, arg.index = get_u32(*v, p));
              OPT(a, "value", ap, arg.value = get_uint(*v, p));
              OPT(a, "valueTwo", ap, arg.value_two = get_uint(*v, p));
              const json* op = field(a, "op");
              if (!op) bad(join(ap, "op"), "is required");
              arg.op = get_string(*op, join(ap, "op"));
              if (arg.index > 5) bad(join(ap, "index"), "must be between 0 and 5");
              call.args.push_back(arg);
            }));
        s.syscalls.push_back(std::move(call));
      }));
  return s;
}

std::string get_propagation(const json& v, const std::string& path) {
  std::string s = get_string(v, path);
  for (const char* ok : {"private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable", ""})
    if (s == ok) return s;
  bad(path, "unknown propagation \"" + s + "\"");
}

const std::vector<std::string> kNamespaceTypes = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};

Linux parse_linux(const json& j, const std::string& path) {
  require_object(j, path);
  Linux l;
  OPT(j, "namespaces", path, each(*v, p, [&](const json& n, const std::string& np) {
        require_object(n, np);
        NamespaceSpec ns;
        const json* t = field(n, "type");
        if (!t) bad(join(np, "type"), "is required");
        ns.type = get_string(*t, join(np, "type"));
        bool known = false;
        for (auto& k : kNamespaceTypes) known |= k == ns.type;
        if (!known) bad(join(np, "type"), "unknown namespace type \"" + ns.type + "\"");
        for (auto& prev : l.namespaces)
          if (prev.type == ns.type) bad(join(np, "type"), "duplicate namespace \"" + ns.type + "\"");
        OPT(n, "path", np, ns.path = get_string(*v, p));
        l.namespaces.push_back(ns);
      }));
  OPT(j, "uidMappings", path, l.uid_mappings = parse_idmaps(*v, p));
  OPT(j, "gidMappings", path, l.gid_mappings = parse_idmaps(*v, p));
  OPT(j, "devices", path, each(*v, p, [&](const json& d, const std::string& dp) {
        require_object(d, dp);
        Device dev;
        const json* dpath = field(d, "path");
        if (!dpath) bad(join(dp, "path"), "is required");
        dev.path = get_string(*dpath, join(dp, "path"));
        const json* t = field(d, "type");
        if (!t) bad(join(dp, "type"), "is required");
        dev.type = get_string(*t, join(dp, "type"));
        if (dev.type != "c" && dev.type != "b" && dev.type != "u" && dev.type != "p")
          bad(join(dp, "type"), "must be one of c, b, u, p");
        OPT(d, "major", dp, dev.major = get_int(*v, p));
        OPT(d, "minor", dp, dev.minor = get_int(*v, p));
        OPT(d, "fileMode", dp, dev.file_mode = get_u32(*v, p));
        OPT(d, "uid", dp, dev.uid = get_u32(*v, p));
        OPT(d, "gid", dp, dev.gid = get_u32(*v, p));
        l.devices.push_back(dev);
      }));
  OPT(j, "cgroupsPath", path, l.cgroups_path = get_string(*v, p));
  OPT(j, "resources", path, l.resources = parse_resources(*v, p));
  OPT(j, "rootfsPropagation", path, l.rootfs_propagation = get_propagation(*v, p));
  OPT(j, "maskedPaths", path, l.masked_paths = get_strings(*v, p));
  OPT(j, "readonlyPaths", path, l.readonly_paths = get_strings(*v, p));
  OPT(j, "sysctl", path, l.sysctl = get_string_map(*v, p));
  OPT(j, "seccomp", path, l.seccomp = parse_seccomp(*v, p));
  OPT(j, "mountLabel", path, l.mount_label = get_string(*v, p));
  return l;
}

std::vector<Hook> parse_hooks(const json& j, const std::string& path) {
  std::vector<Hook> out;
  each(j, path, [&](const json& h, const std::string& hp) {
    require_object(h, hp);
    Hook hook;
    const json* hpath = field(h, "path");
    if (!hpath) bad(join(hp, "path"), "is required");
    hook.path = get_string(*hpath, join(hp, "path"));
    OPT(h, "args", hp, hook.args = get_strings(*v, p));
    OPT(h, "env", hp, hook.env = get_strings(*v, p));
    OPT(h, "timeout", hp, hook.timeout = static_cast<int>(get_int(*v, p)));
    out.push_back(hook);
  });
  return out;
}

Spec parse_spec_inner(const json& j) {
  require_object(j, "");
  Spec s;
  OPT(j, "ociVersion", "", s.oci_version = get_string(*v, p));
  const json* proc = field(j, "process");
  if (!proc) bad("process", "is required");
  s.process = parse_process_at(*proc, "process");
  const json* root = field(j, "root");
  if (!root) bad("root", "is required");
  require_object(*root, "root");
  const json* rp = field(*root, "path");
  if (!rp) bad("root.path", "is required");
  s.root.path = get_string(*rp, "root.path");
  if (s.root.path.empty()) bad("root.path", "must not be empty");
  OPT(*root, "readonly", "root", s.root.readonly = get_bool(*v, p));
  OPT(j, "hostname", "", s.hostname = get_string(*v, p));
  OPT(j, "domainname", "", s.domainname = get_string(*v, p));
  OPT(j, "mounts", "", each(*v, p, [&](const json& m, const std::string& mp) {
        require_object(m, mp);
        Mount mnt;
        const json* d = field(m, "destination");
        if (!d) bad(join(mp, "destination"), "is required");
        mnt.destination = get_string(*d, join(mp, "destination"));
        if (mnt.destination.empty()) bad(join(mp, "destination"), "must not be empty");
        OPT(m, "type", mp, mnt.type = get_string(*v, p));
        OPT(m, "source", mp, mnt.source = get_string(*v, p));
        OPT(m, "options", mp, mnt.options = get_strings(*v, p));
        s.mounts.push_back(std::move(mnt));
      }));
  OPT(j, "linux", "", s.linux = parse_linux(*v, p));
  OPT(j, "hooks", "", {
    require_object(*v, p);
    const json& h = *v;
    OPT(h, "prestart", "hooks", s.hooks.prestart = parse_hooks(*v, p));
    OPT(h, "createRuntime", "hooks", s.hooks.create_runtime = parse_hooks(*v, p));
    OPT(h, "createContainer", "hooks", s.hooks.create_container = parse_hooks(*v, p));
    OPT(h, "startContainer", "hooks", s.hooks.start_container = parse_hooks(*v, p));
    OPT(h, "poststart", "hooks", s.hooks.poststart = parse_hooks(*v, p));
    OPT(h, "poststop", "hooks", s.hooks.poststop = parse_hooks(*v, p));
  });
  OPT(j, "annotations", "", s.annotations = get_string_map(*v, p));
  if (!s.hostname.empty() && !has_namespace(s, "uts") )
    bad("hostname", "requires a new uts namespace (linux.namespaces has no \"uts\")");
  return s;
}

}  // namespace

Result<Spec> parse_spec(const json& j, const std::string& origin) {
  try {
    return parse_spec_inner(j);
  } catch (const FieldError& e) {
    return fail(origin + ": " + (e.path.empty() ? "" : e.path + ": ") + e.msg, EINVAL);
  } catch (const std::exception& e) {
    return fail(origin + ": " + e.what(), EINVAL);
  }
}

Result<Process> parse_process(const json& j, const std::string& origin) {
  try {
    return parse_process_at(j, "process");
  } catch (const FieldError& e) {
    return fail(origin + ": " + e.path + ": " + e.msg, EINVAL);
  } catch (const std::exception& e) {
    return fail(origin + ": " + e.what(), EINVAL);
  }
}

Result<Spec> parse_spec_text(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Re-parse with exceptions for the byte position of the error.
    try {
      (void)json::parse(text);
    } catch (const json::parse_error& e) {
      return fail(origin + ": invalid JSON at byte " + std::to_string(e.byte), EINVAL);
    } catch (const json::exception& e) {  // out_of_range: a number beyond double ("1e400")
      return fail(origin + ": invalid JSON: " + e.what(), EINVAL);
    }
    return fail(origin + ": invalid JSON", EINVAL);
  }
  return parse_spec(j, origin);
}

Result<Spec> load_spec(const std::string& path) {
  auto text = io::read_file(path);
  if (!text) return tl::unexpected(text.error());
  return parse_spec_text(*text, path);
}

bool has_namespace(const Spec& spec, const std::string& type) { return find_namespace(spec, type) != nullptr; }

const NamespaceSpec* find_namespace(const Spec& spec, const std::string& type) {
  for (auto& n : spec.linux.namespaces)
    if (n.type == type) return &n;
  return nullptr;
}

}  // namespace stack::rt
