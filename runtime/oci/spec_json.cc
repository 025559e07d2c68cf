// Spec -> config.json, the inverse of spec.cc, used by `stack-runtime spec`
// and by tests that edit a default spec. Empty optional parts are omitted.
#include <nlohmann/json.hpp>

#include "runtime/oci/spec.h"

namespace stack::rt {
namespace {

using json = nlohmann::json;

json idmaps(const std::vector<IdMapping>& maps) {
  json a = json::array();
  for (auto& m : maps) a.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
  return a;
}

json block_io(const BlockIoResources& b) {
  json j = json::object();
  if (b.weight) j["weight"] = *b.weight;
  if (b.leaf_weight) j["leafWeight"] = *b.leaf_weight;
  if (!b.weight_device.empty()) {
    json a = json::array();
    for (auto& d : b.weight_device) {
      json x = {{"major", d.major}, {"minor", d.minor}};
      if (d.weight) x["weight"] = *d.weight;
      if (d.leaf_weight) x["leafWeight"] = *d.leaf_weight;
      a.push_back(x);
    }
    j["weightDevice"] = a;
  }
  auto throttles = [&](const char* key, const std::vector<ThrottleDevice>& list) {
    if (list.empty()) return;
    json a = json::array();
    for (auto& d : list) a.push_back({{"major", d.major}, {"minor", d.minor}, {"rate", d.rate}});
    j[key] = a;
  };
  throttles("throttleReadBpsDevice", b.throttle_read_bps_device);
  throttles("throttleWriteBpsDevice", b.throttle_write_bps_device);
  throttles("throttleReadIOPSDevice", b.throttle_read_iops_device);
  throttles("throttleWriteIOPSDevice", b.throttle_write_iops_device);
  return j;
}

json resources(const Resources& r) {
  json j = json::object();
  if (r.memory) {
    json m = json::object();
    if (r.memory->limit) m["limit"] = *r.memory->limit;
    if (r.memory->reservation) m["reservation"] = *r.memory->reservation;
    if (r.memory->swap) m["swap"] = *r.memory->swap;
    if (r.memory->swappiness) m["swappiness"] = *r.memory->swappiness;
    if (r.memory->disable_oom_killer) m["disableOOMKiller"] = *r.memory->disable_oom_killer;
    if (r.memory->kernel) m["kernel"] = *r.memory->kernel;
    if (r.memory->kernel_tcp) m["kernelTCP"] = *r.memory->kernel_tcp;
    j["memory"] = m;
  }
  if (r.cpu) {
    json c = json::object();
    if (r.cpu->shares) c["shares"] = *r.cpu->shares;
    if (r.cpu->quota) c["quota"] = *r.cpu->quota;
    if (r.cpu->period) c["period"] = *r.cpu->period;
    if (r.cpu->realtime_runtime) c["realtimeRuntime"] = *r.cpu->realtime_runtime;
    if (r.cpu->realtime_period) c["realtimePeriod"] = *r.cpu->realtime_period;
    if (!r.cpu->cpus.empty()) c["cpus"] = r.cpu->cpus;
    if (!r.cpu->mems.empty()) c["mems"] = r.cpu->mems;
    j["cpu"] = c;
  }
  if (r.pids) j["pids"] = {{"limit", r.pids->limit}};
  if (!r.devices.empty()) {
    json d = json::array();
    for (auto& rule : r.devices) {
      json x = {{"allow", rule.allow}};
      if (!rule.type.empty()) x["type"] = rule.type;
      if (rule.major) x["major"] = *rule.major;
      if (rule.minor) x["minor"] = *rule.minor;
      if (!rule.access.empty()) x["access"] = rule.access;
      d.push_back(x);
    }
    j["devices"] = d;
  }
  if (r.block_io) j["blockIO"] = block_io(*r.block_io);
  if (!r.hugepage_limits.empty()) {
    json h = json::array();
    for (auto& l : r.hugepage_limits) h.push_back({{"pageSize", l.page_size}, {"limit", l.limit}});
    j["hugepageLimits"] = h;
  }
  if (r.network) {
    json n = json::object();
    if (r.network->class_id) n["classID"] = *r.network->class_id;
    if (!r.network->priorities.empty()) {
      json prio = json::array();
      for (auto& p : r.network->priorities) prio.push_back({{"name", p.name}, {"priority", p.priority}});
      n["priorities"] = prio;
    }
    j["network"] = n;
  }
  if (!r.unified.empty()) j["unified"] = r.unified;
  return j;
}

json seccomp(const Seccomp& s) {
  json j = {{"defaultAction", s.default_action}};
  if (s.default_errno_ret) j["defaultErrnoRet"] = *s.default_errno_ret;
  if (!s.architectures.empty()) j["architectures"] = s.architectures;
  if (!s.flags.empty()) j["flags"] = s.flags;
  json calls = json::array();
  for (auto& c : s.syscalls) {
    json x = {{"names", c.names}, {"action", c.action}};
    if (c.errno_ret) x["errnoRet"] = *c.errno_ret;
    if (!c.args.empty()) {
      json args = json::array();
      for (auto& a : c.args) {
        json aj = {{"index", a.index}, {"value", a.value}, {"op", a.op}};
        if (a.value_two) aj["valueTwo"] = a.value_two;
        args.push_back(aj);
      }
      x["args"] = args;
    }
    calls.push_back(x);
  }
  j["syscalls"] = calls;
  return j;
}

json hooks(const std::vector<Hook>& hs) {
  json a = json::array();
  for (auto& h : hs) {
    json x = {{"path", h.path}};
    if (!h.args.empty()) x["args"] = h.args;
    if (!h.env.empty()) x["env"] = h.env;
    if (h.timeout) x["timeout"] = *h.timeout;
    a.push_back(x);
  }
  return a;
}

}  // namespace

json spec_to_json(const Spec& s) {
  json j;
  j["ociVersion"] = s.oci_version;
  json p;
  p["terminal"] = s.process.terminal;
  if (s.process.console_size)
    p["consoleSize"] = {{"height", s.process.console_size->height}, {"width", s.process.console_size->width}};
  json user = {{"uid", s.process.user.uid}, {"gid", s.process.user.gid}};
  if (s.process.user.umask) user["umask"] = *s.process.user.umask;
  if (!s.process.user.additional_gids.empty()) user["additionalGids"] = s.process.user.additional_gids;
  p["user"] = user;
  p["args"] = s.process.args;
  p["env"] = s.process.env;
  p["cwd"] = s.process.cwd;
  if (auto& c = s.process.capabilities) {
    p["capabilities"] = {{"bounding", c->bounding}, {"effective", c->effective}, {"inheritable", c->inheritable},
                         {"permitted", c->permitted}, {"ambient", c->ambient}};
  }
  if (!s.process.rlimits.empty()) {
    json rl = json::array();
    for (auto& r : s.process.rlimits) rl.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    p["rlimits"] = rl;
  }
  p["noNewPrivileges"] = s.process.no_new_privileges;
  if (s.process.oom_score_adj) p["oomScoreAdj"] = *s.process.oom_score_adj;
  if (!s.process.apparmor_profile.empty()) p["apparmorProfile"] = s.process.apparmor_profile;
  if (!s.process.selinux_label.empty()) p["selinuxLabel"] = s.process.selinux_label;
  j["process"] = p;
  j["root"] = {{"path", s.root.path}, {"readonly", s.root.readonly}};
  if (!s.hostname.empty()) j["hostname"] = s.hostname;
  if (!s.domainname.empty()) j["domainname"] = s.domainname;
  json mounts = json::array();
  for (auto& m : s.mounts) {
    json x = {{"destination", m.destination}};
    if (!m.type.empty()) x["type"] = m.type;
    if (!m.source.empty()) x["source"] = m.source;
    if (!m.options.empty()) x["options"] = m.options;
    mounts.push_back(x);
  }
  j["mounts"] = mounts;

  json l = json::object();
  json ns = json::array();
  for (auto& n : s.linux.namespaces) {
    json x = {{"type", n.type}};
    if (!n.path.empty()) x["path"] = n.path;
    ns.push_back(x);
  }
  l["namespaces"] = ns;
  if (!s.linux.uid_mappings.empty()) l["uidMappings"] = idmaps(s.linux.uid_mappings);
  if (!s.linux.gid_mappings.empty()) l["gidMappings"] = idmaps(s.linux.gid_mappings);
  if (!s.linux.devices.empty()) {
    json d = json::array();
    for (auto& dev : s.linux.devices) {
      json x = {{"path", dev.path}, {"type", dev.type}, {"major", dev.major}, {"minor", dev.minor}};
      if (dev.file_mode) x["fileMode"] = *dev.file_mode;
      if (dev.uid) x["uid"] = *dev.uid;
      if (dev.gid) x["gid"] = *dev.gid;
      d.push_back(x);
    }
    l["devices"] = d;
  }
  if (!s.linux.cgroups_path.empty()) l["cgroupsPath"] = s.linux.cgroups_path;
  if (s.linux.resources) l["resources"] = resources(*s.linux.resources);
  if (!s.linux.rootfs_propagation.empty()) l["rootfsPropagation"] = s.linux.rootfs_propagation;
  if (!s.linux.masked_paths.empty()) l["maskedPaths"] = s.linux.masked_paths;
  if (!s.linux.readonly_paths.empty()) l["readonlyPaths"] = s.linux.readonly_paths;
  if (!s.linux.sysctl.empty()) l["sysctl"] = s.linux.sysctl;
  if (s.linux.seccomp) l["seccomp"] = seccomp(*s.linux.seccomp);
  if (!s.linux.mount_label.empty()) l["mountLabel"] = s.linux.mount_label;
  j["linux"] = l;

  json h = json::object();
  if (!s.hooks.prestart.empty()) h["prestart"] = hooks(s.hooks.prestart);
  if (!s.hooks.create_runtime.empty()) h["createRuntime"] = hooks(s.hooks.create_runtime);
  if (!s.hooks.create_container.empty()) h["createContainer"] = hooks(s.hooks.create_container);
  if (!s.hooks.start_container.empty()) h["startContainer"] = hooks(s.hooks.start_container);
  if (!s.hooks.poststart.empty()) h["poststart"] = hooks(s.hooks.poststart);
  if (!s.hooks.poststop.empty()) h["poststop"] = hooks(s.hooks.poststop);
  if (!h.empty()) j["hooks"] = h;
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return j;
}

}  // namespace stack::rt
