#include "orchestrator/daemon/cluster/assignment.h"

#include <cerrno>
#include <memory>
#include <mutex>
#include <vector>

#include "orchestrator/compose/loader.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "runtime/image/digest.h"
#include "orchestrator/compose/serialize.h"
#include "orchestrator/daemon/engine/supervisor.h"
#include "scheduler/reconcile.h"

namespace stack::orch {
namespace {

using nlohmann::json;

json network_json(const net::NetworkInfo& n) {
  return {{"name", n.name}, {"bridge", n.bridge}, {"subnet", n.subnet}, {"gateway", n.gateway},
          {"prefix", n.prefix}, {"internal", n.internal}, {"mtu", n.mtu}};
}

net::NetworkInfo network_of(const json& j) {
  net::NetworkInfo n;
  n.name = j.at("name").get<std::string>();
  n.bridge = j.at("bridge").get<std::string>();
  n.subnet = j.at("subnet").get<std::string>();
  n.gateway = j.at("gateway").get<std::string>();
  n.prefix = j.at("prefix").get<int>();
  n.internal = j.at("internal").get<bool>();
  n.mtu = j.at("mtu").get<unsigned>();
  return n;
}

const char* state_name(TaskReport::State s) {
  switch (s) {
    case TaskReport::State::Running: return "running";
    case TaskReport::State::Exited: return "exited";
    case TaskReport::State::Failed: return "failed";
  }
  return "failed";
}

// Runs `parse` on `text`, turning a JSON error into EINVAL naming `what`.
template <typename T, typename F>
stack::Result<T> parse_as(const std::string& text, const char* what, F parse) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return stack::fail(std::string(what) + ": not a JSON object", EINVAL);
  try {
    return parse(j);
  } catch (const json::exception& e) {
    return stack::fail(std::string(what) + ": " + e.what(), EINVAL);
  }
}

}  // namespace

namespace {

// A source's stored text, made once per PlanSource (a `up` of 30,000
// replicas shares one) and kept while the source lives. A weak_ptr names
// the source: a new source at a dead one's address is not a hit.
SourceText make_source_text(const std::shared_ptr<const PlanSource>& source) {
  static std::mutex mu;
  static std::vector<std::pair<std::weak_ptr<const PlanSource>, SourceText>> cache;
  {
    std::lock_guard lk(mu);
    for (const auto& [weak, text] : cache)
      if (weak.lock() == source) return text;
  }
  json nets = json::object();
  for (const auto& [key, n] : source->networks) nets[key] = network_json(n);
  auto body = std::make_shared<const std::string>(
      json{{"project", compose::project_to_json_value(source->project)}, {"networks", nets}}.dump());
  SourceText text{cluster_keys::source(source->project.name, img::sha256_of(*body).hex.substr(0, 32)), body};
  std::lock_guard lk(mu);
  std::erase_if(cache, [](const auto& e) { return e.first.expired(); });
  cache.emplace_back(source, text);
  return text;
}

}  // namespace

SourceText source_text(const ReplicaPlan& plan) { return make_source_text(plan.source); }

stack::Result<std::shared_ptr<const PlanSource>> source_from_json(const std::string& body) {
  struct Parts {
    std::string project;
    std::map<std::string, net::NetworkInfo> networks;
  };
  auto parts = parse_as<Parts>(body, "source", [](const json& j) {
    Parts p;
    p.project = j.at("project").dump();
    for (const auto& [key, n] : j.at("networks").items()) p.networks[key] = network_of(n);
    return p;
  });
  if (!parts) return tl::unexpected(parts.error());
  auto project = compose::project_from_json(parts->project);
  if (!project) return tl::unexpected(project.error().wrap("source: project"));
  return std::make_shared<const PlanSource>(PlanSource{std::move(*project), std::move(parts->networks)});
}

std::string assignment_to_json(const ReplicaPlan& plan) {
  return json{{"id", plan.id}, {"service", plan.service_key}, {"slot", plan.slot}, {"source", source_text(plan).key}}
      .dump();
}

stack::Result<ReplicaPlan> plan_from_assignment(const std::string& text, const std::string& volume_root,
                                                const SourceLookup& lookup) {
  struct Parts {
    std::string id, service, source;
    int slot = 0;
  };
  auto parts = parse_as<Parts>(text, "assignment", [](const json& j) {
    Parts p;
    p.id = j.at("id").get<std::string>();
    p.service = j.at("service").get<std::string>();
    p.slot = j.at("slot").get<int>();
    p.source = j.at("source").get<std::string>();
    return p;
  });
  if (!parts) return tl::unexpected(parts.error());
  if (parts->source.rfind(cluster_keys::kSources, 0) != 0)
    return stack::fail("assignment " + parts->id + ": source " + parts->source + " is not under " +
                           cluster_keys::kSources, EINVAL);
  auto source = lookup(parts->source);
  if (!source) return tl::unexpected(source.error().wrap("assignment " + parts->id));
  const compose::Project& project = (*source)->project;
  if (!project.services.count(parts->service))
    return stack::fail("assignment " + parts->id + ": no service " + parts->service + " in its project", EINVAL);
  ReplicaPlan plan = make_plan(project, parts->service, parts->slot, parts->id, (*source)->networks, volume_root);
  plan.source = *source;
  return plan;
}

std::string report_to_json(const TaskReport& r) {
  json j{{"state", state_name(r.state)},
         {"pid", r.runtime.pid},
         {"shim_pid", r.runtime.shim_pid},
         {"started_at_ms", r.runtime.started_at_ms},
         {"addresses", r.runtime.addresses},
         {"netns_path", r.runtime.netns_path},
         {"warnings", r.runtime.warnings},
         {"exit_code", r.exit.exit_code},
         {"oom_killed", r.exit.oom_killed},
         {"finished_at_ms", r.exit.finished_at_ms},
         {"error", r.error}};
  if (r.probe)
    j["probe"] = {{"nonce", r.probe_nonce},
                  {"start", r.probe->start},
                  {"end", r.probe->end},
                  {"exit_code", r.probe->exit_code},
                  {"output", r.probe->output}};
  return j.dump();
}

stack::Result<TaskReport> report_from_json(const std::string& text) {
  return parse_as<TaskReport>(text, "task report", [](const json& j) {
    TaskReport r;
    std::string state = j.at("state").get<std::string>();
    r.state = state == "running" ? TaskReport::State::Running
              : state == "exited" ? TaskReport::State::Exited
                                  : TaskReport::State::Failed;
    r.runtime.pid = j.at("pid").get<int>();
    r.runtime.shim_pid = j.at("shim_pid").get<int>();
    r.runtime.started_at_ms = j.at("started_at_ms").get<int64_t>();
    r.runtime.addresses = j.at("addresses").get<std::map<std::string, std::string>>();
    r.runtime.netns_path = j.at("netns_path").get<std::string>();
    r.runtime.warnings = j.at("warnings").get<std::vector<std::string>>();
    r.runtime.running = r.state == TaskReport::State::Running;
    r.exit.exit_code = j.at("exit_code").get<int>();
    r.exit.oom_killed = j.at("oom_killed").get<bool>();
    r.exit.finished_at_ms = j.at("finished_at_ms").get<int64_t>();
    r.error = j.at("error").get<std::string>();
    if (j.contains("probe")) {
      const json& p = j.at("probe");
      r.probe_nonce = p.at("nonce").get<std::string>();
      r.probe = sched::ProbeResult{p.at("start").get<int64_t>(), p.at("end").get<int64_t>(),
                                   p.at("exit_code").get<int>(), p.at("output").get<std::string>()};
    }
    return r;
  });
}

std::string probe_request_to_json(const ProbeRequest& p) {
  const sched::HealthSpec& s = p.spec;
  return json{{"kind", sched::to_string(s.kind)}, {"exec", s.exec},      {"port", s.port},
              {"path", s.path},                    {"status_min", s.status_min},
              {"status_max", s.status_max},        {"timeout", s.timeout}, {"address", p.address},
              {"nonce", p.nonce}}
      .dump();
}

stack::Result<ProbeRequest> probe_request_from_json(const std::string& text) {
  return parse_as<ProbeRequest>(text, "probe request", [](const json& j) {
    ProbeRequest p;
    std::string kind = j.at("kind").get<std::string>();
    p.spec.kind = kind == "exec"   ? sched::ProbeKind::Exec
                  : kind == "http" ? sched::ProbeKind::Http
                  : kind == "tcp"  ? sched::ProbeKind::Tcp
                                   : sched::ProbeKind::None;
    p.spec.exec = j.at("exec").get<std::vector<std::string>>();
    p.spec.port = j.at("port").get<uint16_t>();
    p.spec.path = j.at("path").get<std::string>();
    p.spec.status_min = j.at("status_min").get<int>();
    p.spec.status_max = j.at("status_max").get<int>();
    p.spec.timeout = j.at("timeout").get<int64_t>();
    p.address = j.at("address").get<std::string>();
    p.nonce = j.at("nonce").get<std::string>();
    return p;
  });
}

std::string signal_to_json(int signal, const std::string& nonce) {
  return json{{"signal", signal}, {"nonce", nonce}}.dump();
}

stack::Result<int> signal_from_json(const std::string& text) {
  return parse_as<int>(text, "signal", [](const json& j) { return j.at("signal").get<int>(); });
}

}  // namespace stack::orch
