#include "orchestrator/daemon/node/replica_spec.h"

#include <nlohmann/json.hpp>

#include "orchestrator/compose/serialize.h"

namespace stack::orch {

using nlohmann::json;

namespace {

json optional_json(const auto& v) { return v ? json(*v) : json(nullptr); }

json mount_json(const compose::Mount& m) {
  return {{"type", m.type},
          {"source", m.source},
          {"target", m.target},
          {"read_only", m.read_only},
          {"create_host_path", m.create_host_path},
          {"tmpfs_size", optional_json(m.tmpfs_size)},
          {"tmpfs_mode", optional_json(m.tmpfs_mode)},
          {"consistency", m.consistency},
          {"nocopy", m.nocopy},
          {"bind_propagation", m.bind_propagation}};
}

json device_json(const compose::DeviceMapping& d) {
  return {{"source", d.source}, {"target", d.target}, {"permissions", d.permissions}};
}

json ulimit_json(const compose::Ulimit& u) { return {{"soft", u.soft}, {"hard", u.hard}}; }

}  // namespace

ReplicaSpec::ReplicaSpec(const compose::Service& s)
    : name(s.name),
      image(s.image),
      command(s.command),
      entrypoint(s.entrypoint),
      environment(s.environment),
      user(s.user),
      working_dir(s.working_dir),
      hostname(s.hostname),
      domainname(s.domainname),
      labels(s.labels),
      cap_add(s.cap_add),
      cap_drop(s.cap_drop),
      security_opt(s.security_opt),
      read_only(s.read_only),
      privileged(s.privileged),
      init(s.init),
      tty(s.tty),
      stdin_open(s.stdin_open),
      stop_signal(s.stop_signal),
      ulimits(s.ulimits),
      sysctls(s.sysctls),
      pids_limit(s.pids_limit),
      mem_limit(s.mem_limit),
      cpus(s.cpus),
      cpu_shares(s.cpu_shares),
      cpuset(s.cpuset),
      tuning(s.tuning),
      logging(s.logging),
      pid(s.pid),
      platform(s.platform),
      post_start(s.post_start),
      pre_stop(s.pre_stop),
      ipc(s.ipc),
      uts(s.uts),
      cgroup(s.cgroup),
      group_add(s.group_add),
      annotations(s.annotations),
      oom_score_adj(s.oom_score_adj),
      devices(s.devices),
      shm_size(s.shm_size),
      volumes(s.volumes),
      network_mode(s.network_mode),
      extra_hosts(s.extra_hosts),
      dns(s.dns),
      dns_search(s.dns_search),
      dns_opt(s.dns_opt),
      egress_bytes_per_sec(s.egress_bytes_per_sec) {}

json to_json_value(const ReplicaSpec& s) {
  json volumes = json::array(), devices = json::array(), ulimits = json::object();
  for (const auto& m : s.volumes) volumes.push_back(mount_json(m));
  for (const auto& d : s.devices) devices.push_back(device_json(d));
  for (const auto& [k, u] : s.ulimits) ulimits[k] = ulimit_json(u);
  return {{"name", s.name},
          {"image", s.image},
          {"command", optional_json(s.command)},
          {"entrypoint", optional_json(s.entrypoint)},
          {"environment", s.environment},
          {"user", s.user},
          {"working_dir", s.working_dir},
          {"hostname", s.hostname},
          {"domainname", s.domainname},
          {"labels", s.labels},
          {"cap_add", s.cap_add},
          {"cap_drop", s.cap_drop},
          {"security_opt", s.security_opt},
          {"read_only", s.read_only},
          {"privileged", s.privileged},
          {"init", s.init},
          {"tty", s.tty},
          {"stdin_open", s.stdin_open},
          {"stop_signal", s.stop_signal},
          {"ulimits", ulimits},
          {"sysctls", s.sysctls},
          {"pids_limit", optional_json(s.pids_limit)},
          {"mem_limit", optional_json(s.mem_limit)},
          {"cpus", optional_json(s.cpus)},
          {"cpu_shares", optional_json(s.cpu_shares)},
          {"cpuset", s.cpuset},
          {"tuning", compose::tuning_to_json(s.tuning)},
          {"logging", {{"driver", s.logging.driver}, {"options", s.logging.options}}},
          {"pid", s.pid},
          {"platform", s.platform},
          {"post_start", compose::hooks_to_json(s.post_start)},
          {"pre_stop", compose::hooks_to_json(s.pre_stop)},
          {"ipc", s.ipc},
          {"uts", s.uts},
          {"cgroup", s.cgroup},
          {"group_add", s.group_add},
          {"annotations", s.annotations},
          {"oom_score_adj", optional_json(s.oom_score_adj)},
          {"devices", devices},
          {"shm_size", optional_json(s.shm_size)},
          {"volumes", volumes},
          {"network_mode", s.network_mode},
          {"extra_hosts", s.extra_hosts},
          {"dns", s.dns},
          {"dns_search", s.dns_search},
          {"dns_opt", s.dns_opt},
          {"egress_bytes_per_sec", s.egress_bytes_per_sec}};
}

json without_defaults(const json& value, const json& defaults) {
  if (!value.is_object() || !defaults.is_object()) return value;
  json out = json::object();
  for (const auto& [k, v] : value.items()) {
    auto d = defaults.find(k);
    if (d == defaults.end()) {
      out[k] = v;
    } else if (v != *d) {
      out[k] = v.is_object() && d->is_object() ? without_defaults(v, *d) : v;
    }
  }
  return out;
}

json canonical_json(const ReplicaSpec& s) {
  json j = to_json_value(s);
  // Elements first, against their own defaults: a new mount option at its
  // default must not change the hash either.
  const json mount_default = mount_json(compose::Mount{});
  for (auto& m : j["volumes"]) m = without_defaults(m, mount_default);
  const json device_default = device_json(compose::DeviceMapping{});
  for (auto& d : j["devices"]) d = without_defaults(d, device_default);
  const json ulimit_default = ulimit_json(compose::Ulimit{});
  for (auto& u : j["ulimits"]) u = without_defaults(u, ulimit_default);
  return without_defaults(j, to_json_value(ReplicaSpec{}));
}

}  // namespace stack::orch
