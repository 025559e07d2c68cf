#include "orchestrator/daemon/node/spec_builder.h"

#include <linux/capability.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "orchestrator/compose/resources.h"
#include "runtime/container/default_spec.h"
#include "runtime/kernel/capabilities.h"
#include "runtime/kernel/seccomp.h"

namespace stack::orch {
namespace {

using stack::fail;

constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string env_key(const std::string& kv) { return kv.substr(0, kv.find('=')); }

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// One passwd/group line split on ':'; fewer than `min` fields is skipped.
std::vector<std::vector<std::string>> db_entries(const std::string& text, size_t min) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, ':');
    if (f.size() >= min) out.push_back(std::move(f));
  }
  return out;
}

std::string cap_name(std::string c) {
  std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::toupper(ch); });
  if (c != "ALL" && c.rfind("CAP_", 0) != 0) c = "CAP_" + c;
  return c;
}

std::vector<std::string> all_capabilities() {
  std::vector<std::string> out;
  for (int c = 0; c <= CAP_LAST_CAP; c++) out.push_back(rt::capability_name(c));
  return out;
}

// Docker's order: start from the defaults (or ALL), add cap_add, drop cap_drop.
stack::Result<std::vector<std::string>> resolve_caps(const ReplicaSpec& s) {
  std::vector<std::string> caps = rt::docker_default_capabilities();
  if (s.privileged) return all_capabilities();
  std::set<std::string> add, drop;
  for (auto& c : s.cap_add) add.insert(cap_name(c));
  for (auto& c : s.cap_drop) drop.insert(cap_name(c));
  for (auto* set : {&add, &drop})
    for (auto& c : *set)
      if (c != "ALL" && !rt::capability_from_name(c))
        return fail("service " + s.name + ": " + (set == &add ? "cap_add" : "cap_drop") + ": unknown capability \"" +
                        c + "\"",
                    EINVAL);
  if (add.count("ALL")) caps = all_capabilities();
  for (auto& c : add)
    if (c != "ALL" && std::find(caps.begin(), caps.end(), c) == caps.end()) caps.push_back(c);
  if (drop.count("ALL")) caps.clear();
  std::erase_if(caps, [&](const std::string& c) { return drop.count(c) && !add.count(c); });
  if (drop.count("ALL"))  // drop ALL then add some: only the added ones
    for (auto& c : add)
      if (c != "ALL") caps.push_back(c);
  return caps;
}

std::string rlimit_name(std::string n) {
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return "RLIMIT_" + n;
}

std::string join_path(const std::string& dir, const std::string& rel) {
  if (rel.empty() || rel[0] == '/') return rel;
  std::string r = rel.rfind("./", 0) == 0 ? rel.substr(2) : rel;
  return dir + (dir.empty() || dir.back() == '/' ? "" : "/") + r;
}

// A volume of the slot's own (anonymous_volume_dir), made when missing and
// filled from the image unless nocopy.
rt::Mount anonymous_volume(const ReplicaPlan& plan, const std::string& target, bool copy, BuiltSpec& out) {
  rt::Mount o;
  o.destination = target;
  o.type = "bind";
  o.source = anonymous_volume_dir(plan.anonymous_dir, target);
  o.options = {"rbind", "rprivate"};
  out.bind_dirs_to_create.push_back(o.source);
  if (copy) out.volume_copies.emplace_back(o.source, target);
  return o;
}

stack::Result<void> add_service_mounts(const ReplicaPlan& plan, const img::ImageConfig& image, BuiltSpec& out) {
  const auto& s = plan.service;
  // The image's VOLUMEs that no mount of the service covers get anonymous
  // volumes, as Docker gives them (their content copied up).
  std::set<std::string> targets;
  for (const auto& m : s.volumes) targets.insert(m.target);
  for (const auto& v : image.volumes)
    if (!v.empty() && v[0] == '/' && !targets.count(v)) {
      if (plan.anonymous_dir.empty()) return fail("image VOLUME " + v + ": the plan has no anonymous volume dir", EINVAL);
      rt::Mount o = anonymous_volume(plan, v, true, out);
      o.options.push_back("rw");
      out.spec.mounts.push_back(std::move(o));
    }
  for (size_t i = 0; i < s.volumes.size(); i++) {
    const auto& m = s.volumes[i];
    std::string where = "service " + s.name + ": volumes[" + std::to_string(i) + "] (" + m.target + ")";
    if (m.target.empty() || m.target[0] != '/') return fail(where + ": target must be an absolute path", EINVAL);
    rt::Mount o;
    o.destination = m.target;
    if (m.type == "tmpfs") {
      o.type = "tmpfs";
      o.source = "tmpfs";
      o.options = {"nosuid", "nodev"};
      if (m.tmpfs_size) o.options.push_back("size=" + std::to_string(*m.tmpfs_size));
      char mode[16];
      std::snprintf(mode, sizeof mode, "mode=%o", m.tmpfs_mode ? *m.tmpfs_mode : 01777);
      o.options.push_back(mode);
    } else if (m.type == "volume" && m.source.empty()) {
      if (plan.anonymous_dir.empty()) return fail(where + ": the plan has no anonymous volume dir", EINVAL);
      o = anonymous_volume(plan, m.target, !m.nocopy, out);
    } else if (m.type == "volume" || m.type == "bind") {
      o.type = "bind";
      if (m.type == "volume") {
        auto it = plan.volume_dirs.find(m.source);
        if (it == plan.volume_dirs.end()) return fail(where + ": volume \"" + m.source + "\" has no directory", ENOENT);
        o.source = it->second;
        if (!m.nocopy) out.volume_copies.emplace_back(o.source, m.target);
      } else {
        if (m.source.empty()) return fail(where + ": bind mount without a source", EINVAL);
        o.source = join_path(plan.project_dir, m.source);
        if (o.source[0] != '/') return fail(where + ": relative source and no project directory", EINVAL);
        if (m.create_host_path) out.bind_dirs_to_create.push_back(o.source);
      }
      o.options = {"rbind", m.bind_propagation.empty() ? "rprivate" : m.bind_propagation};
    } else {
      return fail(where + ": unsupported mount type \"" + m.type + "\"", EINVAL);
    }
    o.options.push_back(m.read_only ? "ro" : "rw");
    out.spec.mounts.push_back(std::move(o));
  }
  return {};
}

stack::Result<void> apply_security_opts(const ReplicaSpec& s, const SpecContext& ctx,
                                     const std::vector<std::string>& caps, BuiltSpec& out) {
  for (auto& opt : s.security_opt) {
    auto sep = opt.find_first_of("=:");
    std::string key = opt.substr(0, sep), value = sep == std::string::npos ? "" : opt.substr(sep + 1);
    std::string where = "service " + s.name + ": security_opt \"" + opt + "\"";
    if (key == "no-new-privileges") {
      if (value != "" && value != "true" && value != "false") return fail(where + ": expected true or false", EINVAL);
      out.spec.process.no_new_privileges = value != "false";
    } else if (key == "seccomp") {
      if (value == "unconfined") {
        out.spec.linux.seccomp.reset();
      } else {
        if (value.empty()) return fail(where + ": expected unconfined or a profile path", EINVAL);
        if (!ctx.read_file) return fail(where + ": cannot read profiles here", EINVAL);
        auto text = ctx.read_file(value);
        if (!text) return tl::unexpected(text.error().wrap(where));
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_discarded()) return fail(where + ": " + value + ": invalid JSON", EINVAL);
        auto prof = rt::seccomp_from_docker_profile(j, caps, value);
        if (!prof) return tl::unexpected(prof.error().wrap(where));
        out.spec.linux.seccomp = std::move(*prof);
      }
    } else if (key == "label" || key == "apparmor") {
      out.warnings.push_back(where + ": ignored (no SELinux/AppArmor on this host)");
    } else {
      return fail(where + ": unknown option", EINVAL);
    }
  }
  return {};
}

// blkio_config's per-device entries: the host path's block device numbers.
stack::Result<void> add_blkio(const ReplicaSpec& s, const SpecContext& ctx, rt::Resources& res) {
  const compose::BlkioConfig& b = *s.tuning.blkio;
  rt::BlockIoResources io;
  io.weight = b.weight;
  auto device = [&](const compose::BlkioDeviceRate& d, const char* field) -> stack::Result<rt::Device> {
    std::string where = "service " + s.name + ": blkio_config." + field + " " + d.path;
    if (!ctx.stat_device) return fail(where + ": cannot look devices up here", EINVAL);
    auto dev = ctx.stat_device(d.path);
    if (!dev) return tl::unexpected(dev.error().wrap(where));
    if (dev->type != "b") return fail(where + ": not a block device", EINVAL);
    return dev;
  };
  for (const auto& d : b.weight_device) {
    auto dev = device(d, "weight_device");
    if (!dev) return tl::unexpected(dev.error());
    io.weight_device.push_back({dev->major, dev->minor, static_cast<uint16_t>(d.rate), std::nullopt});
  }
  const std::pair<const std::vector<compose::BlkioDeviceRate>*, std::vector<rt::ThrottleDevice>*> lists[] = {
      {&b.device_read_bps, &io.throttle_read_bps_device},
      {&b.device_write_bps, &io.throttle_write_bps_device},
      {&b.device_read_iops, &io.throttle_read_iops_device},
      {&b.device_write_iops, &io.throttle_write_iops_device}};
  const char* names[] = {"device_read_bps", "device_write_bps", "device_read_iops", "device_write_iops"};
  for (size_t k = 0; k < 4; ++k)
    for (const auto& d : *lists[k].first) {
      auto dev = device(d, names[k]);
      if (!dev) return tl::unexpected(dev.error());
      lists[k].second->push_back({dev->major, dev->minor, d.rate});
    }
  res.block_io = std::move(io);
  return {};
}

stack::Result<void> apply_resources(const ReplicaSpec& s, const std::string& plan_id, const SpecContext& ctx,
                                    BuiltSpec& out) {
  rt::Resources res;
  const compose::ResourceTuning& t = s.tuning;
  if (s.mem_limit || t.mem_reservation || t.memswap_limit || t.mem_swappiness || t.oom_kill_disable) {
    rt::MemoryResources mem;
    if (s.mem_limit) mem.limit = static_cast<int64_t>(*s.mem_limit);
    if (t.mem_reservation) mem.reservation = static_cast<int64_t>(*t.mem_reservation);
    mem.swap = t.memswap_limit;
    if (t.mem_swappiness) mem.swappiness = static_cast<uint64_t>(*t.mem_swappiness);
    if (t.oom_kill_disable) mem.disable_oom_killer = true;
    res.memory = mem;
  }
  if ((s.cpus && *s.cpus > 0) || (s.cpu_shares && *s.cpu_shares > 0) || !s.cpuset.empty() || t.cpu_period ||
      t.cpu_quota || t.cpu_rt_runtime || t.cpu_rt_period) {
    rt::CpuResources cpu;
    if (s.cpus && *s.cpus > 0) {
      cpu.period = 100000;
      cpu.quota = static_cast<int64_t>(std::llround(*s.cpus * 100000));
    }
    // The loader refuses these together with cpus.
    if (t.cpu_period) cpu.period = static_cast<uint64_t>(*t.cpu_period);
    if (t.cpu_quota) cpu.quota = *t.cpu_quota;
    if (s.cpu_shares && *s.cpu_shares > 0) cpu.shares = static_cast<uint64_t>(*s.cpu_shares);  // 0: the default
    cpu.cpus = s.cpuset;
    cpu.realtime_runtime = t.cpu_rt_runtime;
    if (t.cpu_rt_period) cpu.realtime_period = static_cast<uint64_t>(*t.cpu_rt_period);
    res.cpu = cpu;
  }
  if (s.pids_limit) res.pids = rt::PidsResources{*s.pids_limit};
  if (s.privileged) res.devices.push_back({true, "a", std::nullopt, std::nullopt, "rwm"});
  for (auto& d : s.devices) {
    std::string where = "service " + s.name + ": devices " + d.source;
    if (!ctx.stat_device) return fail(where + ": cannot look devices up here", EINVAL);
    auto dev = ctx.stat_device(d.source);
    if (!dev) return tl::unexpected(dev.error().wrap(where));
    dev->path = d.target.empty() ? d.source : d.target;
    out.spec.linux.devices.push_back(*dev);
    res.devices.push_back({true, dev->type, dev->major, dev->minor, d.permissions.empty() ? "rwm" : d.permissions});
  }
  for (const auto& text : t.device_cgroup_rules) {
    auto r = compose::parse_device_cgroup_rule(text);
    if (!r) return fail("service " + s.name + ": device_cgroup_rules: invalid rule \"" + text + "\"", EINVAL);
    res.devices.push_back({true, std::string(1, r->type), r->major, r->minor, r->access});
  }
  if (t.blkio) STACK_TRY(add_blkio(s, ctx, res));
  if (res.memory || res.cpu || res.pids || !res.devices.empty() || res.block_io) out.spec.linux.resources = std::move(res);
  // Docker's cgroup-parent: <parent>/<id> instead of the runtime's /stack/<id>.
  if (!t.cgroup_parent.empty()) out.spec.linux.cgroups_path = t.cgroup_parent + "/" + plan_id;
  return {};
}

void set_shm_size(rt::Spec& spec, uint64_t bytes) {
  for (auto& m : spec.mounts) {
    if (m.destination != "/dev/shm") continue;
    std::erase_if(m.options, [](const std::string& o) { return o.rfind("size=", 0) == 0; });
    m.options.push_back("size=" + std::to_string(bytes));
  }
}

void apply_privileged(rt::Spec& spec) {
  spec.linux.seccomp.reset();
  spec.linux.masked_paths.clear();
  spec.linux.readonly_paths.clear();
  for (auto& m : spec.mounts) {
    if (m.destination == "/sys" || m.destination == "/sys/fs/cgroup")
      std::replace(m.options.begin(), m.options.end(), std::string("ro"), std::string("rw"));
  }
  // The host's device nodes, as Docker's --privileged gives them; devpts,
  // shm and mqueue from the default list are mounted on top.
  auto dev = std::find_if(spec.mounts.begin(), spec.mounts.end(), [](auto& m) { return m.destination == "/dev"; });
  if (dev != spec.mounts.end()) *dev = rt::Mount{"/dev", "bind", "/dev", {"rbind", "rslave", "rw"}};
}

}  // namespace

std::vector<std::string> merge_env(const std::vector<std::string>& base, const std::vector<std::string>& over) {
  std::vector<std::string> out = base;
  for (auto& kv : over) {
    auto k = env_key(kv);
    auto it = std::find_if(out.begin(), out.end(), [&](const std::string& e) { return env_key(e) == k; });
    if (it != out.end())
      *it = kv;
    else
      out.push_back(kv);
  }
  return out;
}

std::vector<std::string> resolve_args(const ReplicaSpec& s, const img::ImageConfig& image) {
  std::vector<std::string> args;
  if (s.entrypoint) {
    args = *s.entrypoint;
    if (s.command) args.insert(args.end(), s.command->begin(), s.command->end());
  } else {
    args = image.entrypoint;
    const auto& cmd = s.command ? *s.command : image.cmd;
    args.insert(args.end(), cmd.begin(), cmd.end());
  }
  return args;
}

stack::Result<ResolvedUser> resolve_user(const std::string& spec, const std::string& passwd, const std::string& group) {
  ResolvedUser out;
  std::string u = spec.empty() ? "0" : spec;
  auto colon = u.find(':');
  std::string name = u.substr(0, colon), grp = colon == std::string::npos ? "" : u.substr(colon + 1);
  auto users = db_entries(passwd, 7);
  const std::vector<std::string>* entry = nullptr;
  for (auto& e : users)
    if (all_digits(name) ? e[2] == name : e[0] == name) {
      entry = &e;
      break;
    }
  if (all_digits(name)) {
    out.user.uid = static_cast<uint32_t>(std::stoul(name));
  } else if (!entry) {
    return fail("unable to find user " + name + ": no matching entries in passwd file", ENOENT);
  } else {
    out.user.uid = static_cast<uint32_t>(std::stoul(entry[0][2]));
  }
  if (entry) {
    out.user.gid = all_digits(entry[0][3]) ? static_cast<uint32_t>(std::stoul(entry[0][3])) : 0;
    out.home = entry[0][5];
  }
  auto groups = db_entries(group, 3);
  if (!grp.empty()) {
    if (all_digits(grp)) {
      out.user.gid = static_cast<uint32_t>(std::stoul(grp));
    } else {
      auto g = std::find_if(groups.begin(), groups.end(), [&](auto& e) { return e[0] == grp; });
      if (g == groups.end() || !all_digits((*g)[2]))
        return fail("unable to find group " + grp + ": no matching entries in group file", ENOENT);
      out.user.gid = static_cast<uint32_t>(std::stoul((*g)[2]));
    }
  }
  // Supplementary groups: every group listing the user by name (not when a
  // group was named explicitly, as Docker).
  if (entry && grp.empty()) {
    for (auto& g : groups) {
      if (g.size() < 4 || !all_digits(g[2])) continue;
      for (auto& member : split(g[3], ','))
        if (member == entry[0][0]) {
          uint32_t gid = static_cast<uint32_t>(std::stoul(g[2]));
          if (gid != out.user.gid) out.user.additional_gids.push_back(gid);
        }
    }
  }
  return out;
}

// group_add: a number as is, a name from the image's /etc/group (Docker
// refuses a name it cannot find, and so do we).
stack::Result<void> add_groups(const ReplicaSpec& s, const SpecContext& ctx, rt::User& user) {
  if (s.group_add.empty()) return {};
  auto groups = db_entries(ctx.group, 3);
  for (const auto& g : s.group_add) {
    uint32_t gid = 0;
    if (all_digits(g)) {
      gid = static_cast<uint32_t>(std::stoul(g));
    } else {
      auto e = std::find_if(groups.begin(), groups.end(), [&](auto& x) { return x[0] == g; });
      if (e == groups.end() || !all_digits((*e)[2]))
        return fail("service " + s.name + ": group_add: unable to find group " + g + " in the image's /etc/group",
                    ENOENT);
      gid = static_cast<uint32_t>(std::stoul((*e)[2]));
    }
    if (std::find(user.additional_gids.begin(), user.additional_gids.end(), gid) == user.additional_gids.end())
      user.additional_gids.push_back(gid);
  }
  return {};
}

// pid/ipc/uts/cgroup modes (compose/isolation.h): "host" drops the
// namespace (the process stays in the host's), private/shareable keep the
// replica's own.
void apply_namespace_modes(const ReplicaSpec& s, const SpecContext& ctx, rt::Spec& spec) {
  auto drop = [&](const char* type) {
    std::erase_if(spec.linux.namespaces, [&](const rt::NamespaceSpec& n) { return n.type == type; });
  };
  // Another replica's (pid / ipc "container:<id>", which the node resolved).
  for (auto& n : spec.linux.namespaces)
    if (auto j = ctx.joins.find(n.type); j != ctx.joins.end()) n.path = j->second;
  if (s.pid == "host") drop("pid");
  if (s.uts == "host") {
    drop("uts");
    spec.hostname.clear();  // the host's name is not ours to set
    spec.domainname.clear();
  }
  if (s.cgroup == "host") drop("cgroup");
  if (s.cgroup == "private" &&
      std::none_of(spec.linux.namespaces.begin(), spec.linux.namespaces.end(),
                   [](const rt::NamespaceSpec& n) { return n.type == "cgroup"; }))
    spec.linux.namespaces.push_back({"cgroup", ""});
  if (s.ipc == "host") {
    drop("ipc");
    // The host's POSIX shared memory too, as Docker gives it.
    for (auto& m : spec.mounts)
      if (m.destination == "/dev/shm") m = {"/dev/shm", "bind", "/dev/shm", {"rbind", "rprivate", "rw"}};
  }
}

stack::Result<BuiltSpec> build_spec(const ReplicaPlan& plan, const img::ImageConfig& image, const SpecContext& ctx) {
  const ReplicaSpec& s = plan.service;
  BuiltSpec out;
  rt::Spec& spec = out.spec;
  spec = rt::default_spec();
  spec.root.path = ctx.rootfs;
  spec.root.readonly = s.read_only;
  spec.process.no_new_privileges = false;

  spec.process.args = resolve_args(s, image);
  if (spec.process.args.empty())
    return fail("service " + s.name + ": no command: the image has no ENTRYPOINT/CMD and the service no command",
                EINVAL);
  if (s.init) {
    // Docker's docker-init, ours: pid 1 reaps and forwards signals; the
    // command is its child.
    if (ctx.init_path.empty())
      return fail("service " + s.name + ": init: true needs stack-init, which was not found beside stackd nor in $PATH",
                  ENOENT);
    spec.process.args.insert(spec.process.args.begin(), {kInitPath, "--"});
    spec.mounts.push_back({kInitPath, "bind", ctx.init_path, {"rbind", "rprivate", "ro", "nosuid", "nodev"}});
  }

  auto user = resolve_user(s.user.empty() ? image.user : s.user, ctx.passwd, ctx.group);
  if (!user) return tl::unexpected(user.error().wrap("service " + s.name + ": user"));
  spec.process.user = user->user;
  STACK_TRY(add_groups(s, ctx, spec.process.user));

  spec.hostname = s.hostname.empty() ? plan.name : s.hostname;
  spec.domainname = s.domainname;
  std::vector<std::string> env = {kDefaultPath, "HOSTNAME=" + spec.hostname};
  env = merge_env(env, image.env);
  std::vector<std::string> service_env;
  for (auto& [k, v] : s.environment) service_env.push_back(k + "=" + v);
  env = merge_env(env, service_env);
  if (std::none_of(env.begin(), env.end(), [](auto& e) { return env_key(e) == "HOME"; }))
    env.push_back("HOME=" + (user->home.empty() ? std::string("/") : user->home));
  spec.process.env = env;

  spec.process.cwd = !s.working_dir.empty() ? s.working_dir : !image.working_dir.empty() ? image.working_dir : "/";
  if (spec.process.cwd[0] != '/')
    return fail("service " + s.name + ": working_dir \"" + spec.process.cwd + "\" must be an absolute path", EINVAL);

  auto caps = resolve_caps(s);
  if (!caps) return tl::unexpected(caps.error());
  spec.process.capabilities = rt::Capabilities{*caps, *caps, {}, *caps, {}};
  spec.linux.seccomp = rt::default_seccomp_profile(*caps);
  if (s.privileged) apply_privileged(spec);
  STACK_TRY(apply_security_opts(s, ctx, *caps, out));

  for (auto& [name, lim] : s.ulimits) {
    std::string type = rlimit_name(name);
    std::erase_if(spec.process.rlimits, [&](const rt::Rlimit& r) { return r.type == type; });
    spec.process.rlimits.push_back({type, static_cast<uint64_t>(lim.hard), static_cast<uint64_t>(lim.soft)});
  }
  for (auto& [k, v] : s.sysctls) {
    if (ctx.host_network && k.rfind("net.", 0) == 0)
      return fail("service " + s.name + ": sysctl " + k + " is not allowed with network_mode host", EINVAL);
    spec.linux.sysctl[k] = v;
  }
  spec.process.oom_score_adj = s.oom_score_adj;
  STACK_TRY(apply_resources(s, plan.id, ctx, out));
  if (s.shm_size) set_shm_size(spec, *s.shm_size);

  // Network: join the node's netns, a fresh one, or the host's.
  std::erase_if(spec.linux.namespaces, [&](const rt::NamespaceSpec& n) {
    return n.type == "network" || (ctx.host_network && n.type == "uts");
  });
  if (!ctx.host_network) spec.linux.namespaces.push_back({"network", ctx.netns_path});
  if (ctx.host_network) spec.hostname.clear();
  apply_namespace_modes(s, ctx, spec);

  // /etc files the node wrote; with host networking the host's own.
  if (!ctx.host_network) {
    for (const char* f : {"hosts", "resolv.conf", "hostname"})
      spec.mounts.push_back({std::string("/etc/") + f, "bind", ctx.etc_dir + "/" + f, {"rbind", "rprivate", "rw"}});
  } else {
    for (const char* f : {"/etc/hosts", "/etc/resolv.conf"}) spec.mounts.push_back({f, "bind", f, {"rbind", "rprivate", "ro"}});
  }
  STACK_TRY(add_service_mounts(plan, image, out));
  // Secrets and configs after the volumes, so that a volume at /run does not
  // hide them; read-only whatever the volume or rootfs is.
  for (size_t i = 0; i < plan.files.size(); ++i)
    spec.mounts.push_back({plan.files[i].target, "bind", ctx.files_dir + "/" + std::to_string(i),
                           {"rbind", "rprivate", "ro", "nosuid", "nodev", "noexec"}});

  spec.annotations = plan.labels;
  for (auto& [k, v] : s.labels) spec.annotations.emplace(k, v);
  for (auto& [k, v] : s.annotations) spec.annotations.emplace(k, v);  // never over com.stack.*
  spec.annotations[kAnnotationStopSignal] = s.stop_signal.empty() ? "SIGTERM" : s.stop_signal;
  spec.annotations[kAnnotationName] = plan.name;

  if (s.tty) {
    // The shim receives the pty master (runtime/shim/main_stdio.h). TERM as
    // Docker sets it for a tty container, unless the service set its own.
    spec.process.terminal = true;
    if (!s.environment.count("TERM")) spec.process.env = merge_env(spec.process.env, {"TERM=xterm"});
  }
  return out;
}

}  // namespace stack::orch
