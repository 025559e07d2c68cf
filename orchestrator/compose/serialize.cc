#include "orchestrator/compose/serialize.h"

#include "orchestrator/compose/build.h"

#include <cstdio>
#include <set>

#include <yaml-cpp/yaml.h>

#include "base/base64.h"
#include "orchestrator/compose/loader.h"
#include "orchestrator/compose/tree.h"
#include "orchestrator/compose/units.h"

// std::optional<T> as the value or null (nlohmann 3.11 has no built-in).
namespace nlohmann {
template <class T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& v) {
    if (v) j = *v;
    else j = nullptr;
  }
  static void from_json(const json& j, std::optional<T>& v) {
    if (j.is_null()) v.reset();
    else v = j.get<T>();
  }
};
// Project goes through an explicit serializer: loader.h's
// to_json(const Project&, int) would otherwise take part in the ADL lookup
// nlohmann does for Project and break it. Declared here, before anything
// instantiates the primary template; defined below the other types.
template <>
struct adl_serializer<stack::compose::Project> {
  static void to_json(json& j, const stack::compose::Project& p);
  static void from_json(const json& j, stack::compose::Project& p);
};
}  // namespace nlohmann

namespace stack::compose {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PortSpec, target, target_end, host_ip, published, published_end,
                                                published_auto, protocol, app_protocol, mode, name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Mount, type, source, target, read_only, create_host_path, tmpfs_size,
                                                tmpfs_mode, consistency, nocopy, bind_propagation)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ServiceNetwork, aliases, ipv4_address, ipv6_address, mac_address, priority)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Dependency, condition, restart, required)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Healthcheck, test, interval, timeout, retries, start_period,
                                                start_interval, disable)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NativeProbe, kind, port, path, expect_status_min, expect_status_max,
                                                interval, timeout, retries, start_period, start_interval)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RestartPolicy, condition, delay, max_attempts, window)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DeviceRequest, capabilities, driver, count, device_ids, options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Resources, cpus, memory, pids, devices)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UpdateConfig, parallelism, delay, failure_action, order, monitor,
                                                max_failure_ratio)
// With defaults: a project stored before a field existed still loads.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Deploy, mode, limits, reservations, restart_policy, update_config,
                                                rollback_config, labels, placement_constraints, max_replicas_per_node,
                                                placement_spread)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Ulimit, soft, hard)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DeviceMapping, source, target, permissions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Build, context, dockerfile, args, target)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SecretRef, source, target, uid, gid, mode)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BlkioDeviceRate, path, rate)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Logging, driver, options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LifecycleHook, command, user, privileged, environment, working_dir)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BlkioConfig, weight, weight_device, device_read_bps, device_write_bps,
                                                device_read_iops, device_write_iops)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ResourceTuning, mem_reservation, memswap_limit, mem_swappiness,
                                                oom_kill_disable, cpu_period, cpu_quota, blkio, device_cgroup_rules,
                                                cgroup_parent, cpu_rt_runtime, cpu_rt_period)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ScaleStep, stabilization, max_step, period)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Autoscale, min, max, cpu, memory, requests_per_second, scale_up, scale_down)
// By hand (more fields than nlohmann's macros take), with defaults as
// Deploy: a project stored before a field existed still loads.
template <class S, class F>
void service_fields(S& s, F&& f) {
  f("name", s.name);
  f("image", s.image);
  f("build", s.build);
  f("command", s.command);
  f("entrypoint", s.entrypoint);
  f("environment", s.environment);
  f("ports", s.ports);
  f("expose", s.expose);
  f("volumes", s.volumes);
  f("networks", s.networks);
  f("depends_on", s.depends_on);
  f("healthcheck", s.healthcheck);
  f("native_probe", s.native_probe);
  f("autoscale", s.autoscale);
  f("restart", s.restart);
  f("deploy", s.deploy);
  f("replicas", s.replicas);
  f("user", s.user);
  f("working_dir", s.working_dir);
  f("hostname", s.hostname);
  f("domainname", s.domainname);
  f("container_name", s.container_name);
  f("labels", s.labels);
  f("cap_add", s.cap_add);
  f("cap_drop", s.cap_drop);
  f("security_opt", s.security_opt);
  f("read_only", s.read_only);
  f("privileged", s.privileged);
  f("init", s.init);
  f("tty", s.tty);
  f("stdin_open", s.stdin_open);
  f("attach", s.attach);
  f("post_start", s.post_start);
  f("pre_stop", s.pre_stop);
  f("stop_signal", s.stop_signal);
  f("stop_grace_period", s.stop_grace_period);
  f("ulimits", s.ulimits);
  f("sysctls", s.sysctls);
  f("pids_limit", s.pids_limit);
  f("mem_limit", s.mem_limit);
  f("cpus", s.cpus);
  f("cpu_shares", s.cpu_shares);
  f("cpuset", s.cpuset);
  f("tuning", s.tuning);
  f("logging", s.logging);
  f("pid", s.pid);
  f("ipc", s.ipc);
  f("uts", s.uts);
  f("cgroup", s.cgroup);
  f("group_add", s.group_add);
  f("annotations", s.annotations);
  f("extra_hosts", s.extra_hosts);
  f("dns", s.dns);
  f("dns_search", s.dns_search);
  f("dns_opt", s.dns_opt);
  f("devices", s.devices);
  f("shm_size", s.shm_size);
  f("network_mode", s.network_mode);
  f("mac_address", s.mac_address);
  f("links", s.links);
  f("volumes_from", s.volumes_from);
  f("profiles", s.profiles);
  f("pull_policy", s.pull_policy);
  f("pull_refresh_after", s.pull_refresh_after);
  f("secrets", s.secrets);
  f("configs", s.configs);
  f("platform", s.platform);
  f("runtime", s.runtime);
  f("oom_score_adj", s.oom_score_adj);
  f("egress_bytes_per_sec", s.egress_bytes_per_sec);
  f("extensions", s.extensions);
}
void to_json(nlohmann::json& j, const Service& s) {
  j = nlohmann::json::object();
  service_fields(s, [&](const char* key, const auto& v) { j[key] = v; });
}
void from_json(const nlohmann::json& j, Service& s) {
  s = Service{};
  service_fields(s, [&](const char* key, auto& v) {
    if (auto it = j.find(key); it != j.end()) it->get_to(v);
  });
}
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NetworkDef, name, driver, internal, external, attachable, enable_ipv6,
                                                external_name, subnets, gateways, driver_opts, labels)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(VolumeDef, name, driver, external, external_name, driver_opts, labels)
// By hand: the bytes travel as base64 (JSON strings are UTF-8), and a
// project stored before `data` existed still loads.
void to_json(nlohmann::json& j, const ConfigOrSecretDef& d) {
  j = {{"name", d.name},       {"file", d.file},         {"content", d.content},
       {"environment", d.environment}, {"external", d.external},
       {"data", d.data ? nlohmann::json(stack::base64_encode(*d.data)) : nlohmann::json(nullptr)}};
}
void from_json(const nlohmann::json& j, ConfigOrSecretDef& d) {
  j.at("name").get_to(d.name);
  j.at("file").get_to(d.file);
  j.at("content").get_to(d.content);
  j.at("environment").get_to(d.environment);
  j.at("external").get_to(d.external);
  d.data.reset();
  if (auto it = j.find("data"); it != j.end() && !it->is_null()) {
    auto bytes = stack::base64_decode(it->get<std::string>());
    if (!bytes) throw nlohmann::json::other_error::create(501, "\"data\" of " + d.name + " is not base64", &j);
    d.data = std::move(*bytes);
  }
}
}  // namespace stack::compose

namespace nlohmann {
void adl_serializer<stack::compose::Project>::to_json(json& j, const stack::compose::Project& p) {
  j = json{{"name", p.name},         {"working_dir", p.working_dir}, {"files", p.files},
           {"services", p.services}, {"networks", p.networks},       {"volumes", p.volumes},
           {"configs", p.configs},   {"secrets", p.secrets},         {"extensions", p.extensions}};
  // The replica count is the service's `replicas` alone (model.h). The key
  // deploy.replicas stays, null, because a stackd or CLI of the version
  // before requires every key (a running stackd outlives an upgrade of the
  // CLI); it is never read.
  for (auto& s : j["services"]) s["deploy"]["replicas"] = nullptr;
}
void adl_serializer<stack::compose::Project>::from_json(const json& j, stack::compose::Project& p) {
  j.at("name").get_to(p.name);
  j.at("working_dir").get_to(p.working_dir);
  j.at("files").get_to(p.files);
  j.at("services").get_to(p.services);
  j.at("networks").get_to(p.networks);
  j.at("volumes").get_to(p.volumes);
  j.at("configs").get_to(p.configs);
  j.at("secrets").get_to(p.secrets);
  j.at("extensions").get_to(p.extensions);
}
}  // namespace nlohmann

namespace stack::compose {

nlohmann::json project_to_json_value(const Project& project) { return nlohmann::json(project); }

nlohmann::json tuning_to_json(const ResourceTuning& tuning) { return nlohmann::json(tuning); }

nlohmann::json hooks_to_json(const std::vector<LifecycleHook>& hooks) { return nlohmann::json(hooks); }

std::vector<LifecycleHook> hooks_from_json(const nlohmann::json& j) {
  try {
    return j.get<std::vector<LifecycleHook>>();
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

std::string to_json(const Project& project, int indent) { return project_to_json_value(project).dump(indent); }

stack::Result<Project> project_from_json(const std::string& text) {
  try {
    return nlohmann::json::parse(text).get<Project>();
  } catch (const nlohmann::json::exception& e) {
    return stack::fail(std::string("project json: ") + e.what());
  }
}

namespace {

// Fields holding milliseconds, shown as durations in the YAML view.
const std::set<std::string>& duration_keys() {
  static const std::set<std::string> keys = {"interval",  "timeout", "start_period", "start_interval",
                                             "stop_grace_period", "delay", "window", "monitor"};
  return keys;
}

// Quoted where a YAML reader would take the plain text for something else:
// numbers, booleans (YAML 1.1's yes/no/on/off too: `restart: "no"` must stay
// a string for Compose and PyYAML), null.
bool needs_quotes(const std::string& s) {
  static const std::set<std::string> yaml11_bools = {"y", "Y", "yes", "Yes", "YES", "n",  "N",   "no",
                                                     "No", "NO", "on", "On", "ON", "off", "Off", "OFF"};
  if (s.empty()) return true;
  Node n = Node::make_scalar(s);
  return scalar_number(n) || scalar_bool(n) || yaml11_bools.count(s) || s == "null" || s == "~";
}

// File modes (a service's secrets) read as Compose writes them: octal, "0440".
std::string octal_mode(int64_t mode) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0%llo", static_cast<unsigned long long>(mode));
  return buf;
}

void emit(YAML::Emitter& out, const nlohmann::json& j, const std::string& key) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (auto& [k, v] : j.items()) {
      out << YAML::Key << k << YAML::Value;
      emit(out, v, k);
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::BeginSeq;
    for (auto& v : j) emit(out, v, "");
    out << YAML::EndSeq;
  } else if (j.is_null()) {
    out << YAML::Null;
  } else if (j.is_boolean()) {
    out << (j.get<bool>() ? "true" : "false");
  } else if (j.is_number_integer() && duration_keys().count(key)) {
    out << format_duration(j.get<int64_t>());
  } else if (j.is_number_integer() && key == "mode") {
    out << YAML::DoubleQuoted << octal_mode(j.get<int64_t>());
  } else if (j.is_number()) {
    out << j.dump();
  } else {
    std::string s = j.get<std::string>();
    if (needs_quotes(s)) out << YAML::DoubleQuoted << s;
    else out << s;
  }
}

// Maps whose entries are the user's own (variables, labels, build args, the
// networks a service joins): an entry is printed even when its value is
// empty, as Compose prints `TZ: ""` and `front: null`; dropping it would
// change what the file means.
bool keeps_entries(const std::string& key) {
  static const std::set<std::string> keys = {"environment", "labels",  "args",    "sysctls",
                                             "driver_opts", "options", "networks"};
  return keys.count(key) > 0;
}

// The YAML view leaves out what is unset or empty (null, "", {}, []), except
// in the maps above, and shows x-* extensions as YAML instead of JSON text.
nlohmann::json readable(const nlohmann::json& j, const std::string& key) {
  if (j.is_object()) {
    auto o = nlohmann::json::object();
    bool keep = keeps_entries(key);
    for (auto& [k, v] : j.items()) {
      nlohmann::json x = key == "extensions" && v.is_string() ? nlohmann::json::parse(v.get<std::string>(), nullptr, false) : v;
      if (x.is_discarded()) x = v;
      x = readable(x, k);
      bool empty = x.is_null() || (x.is_string() && x.get<std::string>().empty()) || (x.is_structured() && x.empty());
      if (keep) o[k] = x.is_structured() && x.empty() ? nlohmann::json(nullptr) : std::move(x);
      else if (!empty) o[k] = std::move(x);
    }
    return o;
  }
  if (j.is_array()) {
    auto a = nlohmann::json::array();
    for (auto& v : j) a.push_back(readable(v, ""));
    return a;
  }
  return j;
}

// What Compose prints as a network's or volume's `name:`: the name the
// resource has on the host. An explicit `name:` (external or not), else the
// key itself for an external one, else "<project>_<key>".
std::string resource_name(const std::string& project, const std::string& key, const nlohmann::json& def) {
  const std::string& explicit_name = def.at("external_name").get_ref<const std::string&>();
  if (!explicit_name.empty()) return explicit_name;
  if (def.at("external").get<bool>()) return key;
  return project + "_" + key;
}

// The model's JSON reshaped where Compose's output says something else: the
// model keeps a network's key and its `name:` apart (stackd needs both), the
// view prints the resource name alone.
nlohmann::json compose_view(const Project& project) {
  nlohmann::json v = project_to_json_value(project);
  for (const char* section : {"networks", "volumes"})
    for (auto& [key, def] : v[section].items()) {
      def["name"] = resource_name(project.name, key, def);
      def.erase("external_name");
    }
  // The tuning fields are the service's own keys in a Compose file, and
  // blkio is blkio_config there; a false oom_kill_disable is not written.
  for (auto& [name, svc] : v["services"].items()) {
    nlohmann::json tuning = svc["tuning"];
    svc.erase("tuning");
    for (auto& [k, x] : tuning.items()) {
      if (k == "oom_kill_disable" && x == false) continue;
      svc[k == "blkio" ? "blkio_config" : k] = x;
    }
  }
  // x-autoscale is shown as the file's extension, resolved (autoscale.h).
  for (auto& [name, svc] : v["services"].items()) svc.erase("autoscale");
  // The default log (json-file, no options) and attach: true are not written.
  for (const auto& [name, service] : project.services) {
    if (!v["services"].contains(name)) continue;
    if (service.logging == Logging{}) v["services"][name].erase("logging");
    if (service.attach) v["services"][name].erase("attach");
  }
  // Compose prints where a secret comes from, never its bytes.
  for (const char* section : {"configs", "secrets"})
    for (auto& [key, def] : v[section].items()) def.erase("data");
  // A service built from `build:` with no `image:` has no image in Compose's
  // output: the name (<project>-<service>) is given at build time.
  for (const auto& [name, service] : project.services)
    if (image_is_built(project, service) && v["services"].contains(name)) v["services"][name].erase("image");
  return v;
}

}  // namespace

std::string to_yaml(const Project& project) {
  YAML::Emitter out;
  out.SetNullFormat(YAML::LowerNull);  // `front: null`, as Compose prints it
  emit(out, readable(compose_view(project), ""), "");
  return std::string(out.c_str()) + "\n";
}

}  // namespace stack::compose
