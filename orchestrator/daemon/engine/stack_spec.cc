#include "orchestrator/daemon/engine/stack_spec.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "orchestrator/compose/file_objects.h"
#include "orchestrator/compose/loader.h"
#include "orchestrator/compose/serialize.h"
#include "orchestrator/compose/task_spec.h"
#include "orchestrator/daemon/node/replica_spec.h"

namespace stack::orch {
namespace {

sched::HealthSpec from_healthcheck(const compose::Healthcheck& hc) {
  sched::HealthSpec h;
  if (hc.disable || hc.test.empty() || hc.test[0] == "NONE") return h;
  if (hc.test[0] == "CMD") {
    if (hc.test.size() < 2) return h;
    h.exec.assign(hc.test.begin() + 1, hc.test.end());
  } else if (hc.test[0] == "CMD-SHELL") {
    std::string cmd;
    for (size_t i = 1; i < hc.test.size(); i++) cmd += (i > 1 ? " " : "") + hc.test[i];
    h.exec = {"/bin/sh", "-c", cmd};
  } else {
    // A bare string list without a marker: Docker treats it as CMD-SHELL.
    std::string cmd;
    for (size_t i = 0; i < hc.test.size(); i++) cmd += (i > 0 ? " " : "") + hc.test[i];
    h.exec = {"/bin/sh", "-c", cmd};
  }
  h.kind = sched::ProbeKind::Exec;
  h.interval = hc.interval;
  h.timeout = hc.timeout;
  h.retries = hc.retries;
  h.start_period = hc.start_period;
  h.start_interval = hc.start_interval;
  return h;
}

sched::DependencyCondition condition_of(compose::DependencyCondition c) {
  switch (c) {
    case compose::DependencyCondition::Started: return sched::DependencyCondition::Started;
    case compose::DependencyCondition::Healthy: return sched::DependencyCondition::Healthy;
    case compose::DependencyCondition::CompletedSuccessfully: return sched::DependencyCondition::CompletedSuccessfully;
  }
  return sched::DependencyCondition::Started;
}

sched::ServiceMode mode_of(compose::ServiceMode m) {
  switch (m) {
    case compose::ServiceMode::Global: return sched::ServiceMode::Global;
    case compose::ServiceMode::ReplicatedJob: return sched::ServiceMode::ReplicatedJob;
    case compose::ServiceMode::GlobalJob: return sched::ServiceMode::GlobalJob;
    default: return sched::ServiceMode::Replicated;
  }
}

sched::RestartMode mode_of(compose::RestartMode m) {
  switch (m) {
    case compose::RestartMode::No: return sched::RestartMode::No;
    case compose::RestartMode::Always: return sched::RestartMode::Always;
    case compose::RestartMode::OnFailure: return sched::RestartMode::OnFailure;
    case compose::RestartMode::UnlessStopped: return sched::RestartMode::UnlessStopped;
  }
  return sched::RestartMode::No;
}

sched::RestartSpec restart_of(const compose::RestartRule& rule) {
  sched::RestartSpec r;
  r.mode = mode_of(rule.mode);
  r.max_attempts = rule.max_attempts;
  r.delay = rule.delay;
  r.window = rule.window;
  return r;
}

sched::UpdatePolicy update_policy(const compose::UpdateRule& u) {
  sched::UpdatePolicy p;
  p.parallelism = u.parallelism;
  p.delay = u.delay;
  p.start_first = u.order == compose::UpdateOrder::StartFirst;
  p.failure_action = u.failure_action == compose::FailureAction::Continue   ? sched::FailureAction::Continue
                     : u.failure_action == compose::FailureAction::Rollback ? sched::FailureAction::Rollback
                                                                            : sched::FailureAction::Pause;
  p.monitor = u.monitor;
  p.max_failure_ratio = u.max_failure_ratio.value_or(0);
  return p;
}

nlohmann::json port_json(const compose::PortSpec& p) {
  return {{"target", p.target},       {"target_end", p.target_end},     {"host_ip", p.host_ip},
          {"published", p.published}, {"published_end", p.published_end}, {"published_auto", p.published_auto},
          {"protocol", p.protocol},   {"app_protocol", p.app_protocol}, {"mode", p.mode},
          {"name", p.name}};
}

nlohmann::json attachment_json(const compose::ServiceNetwork& n) {
  return {{"aliases", n.aliases},
          {"ipv4_address", n.ipv4_address},
          {"ipv6_address", n.ipv6_address},
          {"mac_address", n.mac_address},
          {"priority", n.priority ? nlohmann::json(*n.priority) : nlohmann::json(nullptr)}};
}

// What config_hash hashes (see stack_spec.h): the replica's spec, its name,
// its network attachments and the ports wired to it, each without defaults.
nlohmann::json config_json(const compose::Service& s, const compose::Project* project) {
  nlohmann::json j = {{"replica", canonical_json(ReplicaSpec(s))}};
  // Absent when none: the hash of a service without them is unchanged.
  if (project)
    if (auto files = compose::service_files(*project, s))
      for (const auto& f : *files)
        j["files"].push_back({{"target", f.target}, {"uid", f.uid}, {"gid", f.gid}, {"mode", f.mode},
                              {"secret", f.secret}, {"data", fnv1a_hex(f.data)}});
  if (!s.container_name.empty()) j["container_name"] = s.container_name;
  if (!s.mac_address.empty()) j["mac_address"] = s.mac_address;
  if (!s.volumes_from.empty()) j["volumes_from"] = s.volumes_from;
  const nlohmann::json net_default = attachment_json(compose::ServiceNetwork{});
  for (const auto& [key, n] : s.networks) j["networks"][key] = without_defaults(attachment_json(n), net_default);
  const nlohmann::json port_default = port_json(compose::PortSpec{});
  for (const auto& p : s.ports) j["ports"].push_back(without_defaults(port_json(p), port_default));
  return j;
}

bool restart_unhealthy(const compose::Service& s) {
  auto it = s.extensions.find("x-restart-unhealthy");
  if (it == s.extensions.end()) return true;
  auto j = nlohmann::json::parse(it->second, nullptr, false);
  return !(j.is_boolean() && !j.get<bool>());
}

}  // namespace

std::string unbuilt_image_message(const compose::Service& s, const std::string& pull_error) {
  std::string msg = "services." + s.name + ": image " + s.image + " must be built first";
  if (!pull_error.empty()) msg += " (it is not in the store, and pulling it failed: " + pull_error + ")";
  msg += ": stack does not build images yet";
  if (!s.build) return msg;
  const compose::Build& b = *s.build;
  std::string cmd = "docker build -t " + s.image;
  // docker build reads -f relative to the current directory, not the context.
  if (b.dockerfile != "Dockerfile")
    cmd += " -f " + (b.dockerfile[0] != '/' && b.context[0] == '/' ? b.context + "/" : "") + b.dockerfile;
  if (!b.target.empty()) cmd += " --target " + b.target;
  cmd += " " + b.context;
  msg += ". Build it elsewhere (" + cmd + "), then load it: docker save " + s.image + " | stack image load";
  return msg;
}

sched::HealthSpec health_spec(const compose::Service& s, const std::optional<compose::Healthcheck>& image_hc) {
  sched::HealthSpec h;
  if (s.native_probe) {
    const compose::NativeProbe& p = *s.native_probe;
    h.kind = p.kind == "http" ? sched::ProbeKind::Http : sched::ProbeKind::Tcp;
    h.port = p.port;
    h.path = p.path;
    h.status_min = p.expect_status_min;
    h.status_max = p.expect_status_max;
    h.interval = p.interval;
    h.timeout = p.timeout;
    h.retries = p.retries;
    h.start_period = p.start_period;
    h.start_interval = p.start_interval;
  } else if (s.healthcheck) {
    h = from_healthcheck(*s.healthcheck);
  } else if (image_hc) {
    h = from_healthcheck(*image_hc);
  }
  h.restart_unhealthy = restart_unhealthy(s);
  return h;
}

stack::Result<sched::RestartSpec> restart_spec(const compose::Service& s) {
  auto rule = compose::restart_rule(s);
  if (!rule) return tl::unexpected(rule.error());
  return restart_of(*rule);
}

std::string config_hash(const compose::Service& service, const compose::Project* project) {
  return "v2:" + fnv1a_hex(config_json(service, project).dump());
}

std::string legacy_config_hash(const compose::Service& service) {
  // Before v2: the whole service as the compose JSON of a one-service
  // project, with the replica count (then held twice) zeroed and unset.
  compose::Project p;
  p.services.emplace(service.name, service);
  nlohmann::json j = compose::project_to_json_value(p);
  nlohmann::json& s = j["services"][service.name];
  s["replicas"] = 0;
  s["deploy"]["replicas"] = nullptr;
  // Fields added to the model since: absent from what was hashed then.
  s["deploy"].erase("max_replicas_per_node");
  s["deploy"].erase("placement_spread");
  s["deploy"].erase("rollback_config");
  s.erase("cpu_shares");
  s.erase("cpuset");
  s.erase("configs");
  s.erase("tuning");
  s.erase("logging");
  for (const char* k : {"pid", "ipc", "uts", "cgroup", "group_add", "annotations", "attach", "post_start", "pre_stop",
                        "mac_address", "pull_refresh_after", "links", "volumes_from", "autoscale"})
    s.erase(k);
  if (s.contains("networks"))
    for (auto& [_, n] : s["networks"].items()) n.erase("mac_address");
  return fnv1a_hex(j.dump());
}

std::string upgraded_config_hash(const std::string& stored, const compose::Service& service) {
  if (stored.rfind("v2:", 0) == 0 || stored != legacy_config_hash(service)) return stored;
  return config_hash(service);
}

void set_replicas(sched::StackSpec& spec, const compose::Project& project) {
  for (auto& ss : spec.services)
    if (auto it = project.services.find(ss.name); it != project.services.end()) ss.replicas = it->second.replicas;
}

stack::Result<sched::StackSpec> stack_spec(const compose::Project& project,
                                        const std::map<std::string, compose::Healthcheck>& image_hcs) {
  sched::StackSpec spec;
  spec.name = project.name;
  std::map<std::string, compose::TaskSpec> tasks;
  for (const auto& [name, s] : project.services) {
    auto task = compose::task_spec(s);
    if (!task) return tl::unexpected(task.error());
    tasks[name] = std::move(*task);
  }
  for (const auto& [name, s] : project.services) {
    const compose::TaskSpec& t = tasks.at(name);
    sched::ServiceSpec ss;
    ss.name = name;
    ss.replicas = t.replicas;
    ss.mode = mode_of(t.mode);
    for (const auto& d : t.depends_on) {
      if (!project.services.count(d.service) && d.required)
        return stack::fail("services." + name + ".depends_on: unknown service \"" + d.service + "\"");
      ss.depends_on.push_back({d.service, condition_of(d.condition), d.restart, d.required});
    }
    ss.restart = restart_of(t.restart);
    std::optional<compose::Healthcheck> image_hc;
    if (auto it = image_hcs.find(name); it != image_hcs.end()) image_hc = it->second;
    ss.health = health_spec(s, image_hc);
    ss.stop_signal = t.stop_signal;
    ss.stop_grace = t.stop_grace;
    ss.config_hash = config_hash(s, &project);
    if (t.update_config) ss.update = update_policy(*t.update_config);
    ss.rollback = update_policy(t.rollback_config);
    ss.requirements.cpus = t.reserved_cpus;
    ss.requirements.memory = t.reserved_memory;
    ss.requirements.gpus = t.gpus;
    ss.requirements.constraints = t.constraints;
    ss.requirements.max_per_node = t.max_replicas_per_node;
    ss.requirements.spread = t.spread;
    spec.services.push_back(std::move(ss));
  }
  // A service something waits on to complete successfully is a one-shot job.
  for (const auto& [name, t] : tasks)
    for (const auto& d : t.depends_on)
      if (d.condition == compose::DependencyCondition::CompletedSuccessfully)
        for (auto& ss : spec.services)
          if (ss.name == d.service) ss.one_shot = true;
  return spec;
}

}  // namespace stack::orch
