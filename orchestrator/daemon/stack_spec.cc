#include "orchestrator/daemon/stack_spec.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "orchestrator/compose/loader.h"

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

sched::DependencyCondition condition_of(const std::string& c) {
  if (c == "service_healthy") return sched::DependencyCondition::Healthy;
  if (c == "service_completed_successfully") return sched::DependencyCondition::CompletedSuccessfully;
  return sched::DependencyCondition::Started;
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

std::string fnv1a_hex(const std::string& data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
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

rt::Result<sched::RestartSpec> restart_spec(const compose::Service& s) {
  sched::RestartSpec r;
  if (s.deploy.restart_policy) {
    const compose::RestartPolicy& p = *s.deploy.restart_policy;
    if (p.condition == "none") r.mode = sched::RestartMode::No;
    else if (p.condition == "on-failure") r.mode = sched::RestartMode::OnFailure;
    else if (p.condition == "any") r.mode = sched::RestartMode::Always;
    else return rt::fail("services." + s.name + ".deploy.restart_policy.condition: unknown condition \"" +
                         p.condition + "\" (none, on-failure, any)");
    r.delay = p.delay;
    r.max_attempts = p.max_attempts;
    r.window = p.window;
    return r;
  }
  const std::string& v = s.restart;
  if (v.empty() || v == "no") {
    r.mode = sched::RestartMode::No;
  } else if (v == "always") {
    r.mode = sched::RestartMode::Always;
  } else if (v == "unless-stopped") {
    r.mode = sched::RestartMode::UnlessStopped;
  } else if (v.rfind("on-failure", 0) == 0) {
    r.mode = sched::RestartMode::OnFailure;
    if (v.size() > 10) {
      std::string n = v.substr(11);
      if (v[10] != ':' || n.empty() || n.find_first_not_of("0123456789") != std::string::npos || n.size() > 9)
        return rt::fail("services." + s.name + ".restart: bad value \"" + v + "\" (on-failure[:N])");
      r.max_attempts = std::stoi(n);
    }
  } else {
    return rt::fail("services." + s.name + ".restart: unknown policy \"" + v +
                    "\" (no, always, on-failure[:N], unless-stopped)");
  }
  return r;
}

std::string config_hash(const compose::Service& service) {
  compose::Service s = service;
  s.replicas = 0;
  s.deploy.replicas.reset();
  compose::Project p;
  p.services.emplace(s.name, std::move(s));
  return fnv1a_hex(compose::to_json(p, -1));
}

rt::Result<sched::StackSpec> stack_spec(const compose::Project& project,
                                        const std::map<std::string, compose::Healthcheck>& image_hcs) {
  sched::StackSpec spec;
  spec.name = project.name;
  for (const auto& [name, s] : project.services) {
    sched::ServiceSpec ss;
    ss.name = name;
    ss.replicas = s.replicas;
    for (const auto& [dep, d] : s.depends_on) {
      if (!project.services.count(dep) && d.required)
        return rt::fail("services." + name + ".depends_on: unknown service \"" + dep + "\"");
      ss.depends_on.push_back({dep, condition_of(d.condition), d.restart, d.required});
    }
    auto restart = restart_spec(s);
    if (!restart) return tl::unexpected(restart.error());
    ss.restart = *restart;
    std::optional<compose::Healthcheck> image_hc;
    if (auto it = image_hcs.find(name); it != image_hcs.end()) image_hc = it->second;
    ss.health = health_spec(s, image_hc);
    ss.stop_signal = s.stop_signal.empty() ? "SIGTERM" : s.stop_signal;
    ss.stop_grace = s.stop_grace_period;
    ss.config_hash = config_hash(s);
    ss.requirements.cpus = s.deploy.reservations.cpus.value_or(0);
    ss.requirements.memory = s.deploy.reservations.memory.value_or(0);
    for (const auto& d : s.deploy.reservations.devices) {
      bool gpu = false;
      for (const auto& c : d.capabilities) gpu = gpu || c == "gpu";
      if (!gpu) continue;
      int64_t n = d.count.value_or(static_cast<int64_t>(d.device_ids.size()));
      if (n < 0 || ss.requirements.gpus < 0) ss.requirements.gpus = -1;
      else ss.requirements.gpus += n;
    }
    ss.requirements.constraints = s.deploy.placement_constraints;
    spec.services.push_back(std::move(ss));
  }
  // A service something waits on to complete successfully is a one-shot job.
  for (const auto& [name, s] : project.services)
    for (const auto& [dep, d] : s.depends_on)
      if (d.condition == "service_completed_successfully")
        for (auto& ss : spec.services)
          if (ss.name == dep) ss.one_shot = true;
  return spec;
}

}  // namespace stack::orch
