#include "orchestrator/daemon/server/authz_request.h"

#include <set>

#include <nlohmann/json.hpp>

#include "orchestrator/compose/loader.h"
#include "orchestrator/api/api_json.h"

namespace stack::orch {
namespace {

using nlohmann::json;

tl::unexpected<Denial> unchecked(const std::string& field, const std::string& reason) {
  return tl::unexpected<Denial>(Denial{"", field, reason});
}

std::vector<std::string> split_path(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto pos = s.find('/', start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

// The body as the routes read it (an empty body is {}), or a refusal: what
// the policy cannot read it cannot allow.
tl::expected<json, Denial> body_of(const ApiRequest& req) {
  if (req.body.empty()) return json::object();
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) return unchecked("request body", "not valid JSON; the policy cannot check it");
  if (!j.is_object()) return unchecked("request body", "not a JSON object; the policy cannot check it");
  return j;
}

// Compose keys the model drops (compose/unsupported.h) that would share a
// host namespace. Read from the raw JSON, as project_from_json ignores them.
AuthzResult check_raw_namespaces(const AuthzPolicy& policy, const json& project) {
  if (policy.host_namespaces) return {};
  auto services = project.find("services");
  if (services == project.end() || !services->is_object()) return {};
  std::set<std::string> own;  // container_names of this project: joins among them stay inside it
  for (auto& [_, svc] : services->items())
    if (svc.is_object() && svc.contains("container_name") && svc["container_name"].is_string())
      own.insert(svc["container_name"].get<std::string>());
  for (auto& [name, svc] : services->items()) {
    if (!svc.is_object()) continue;
    for (const char* key : {"pid", "ipc", "uts", "userns_mode", "cgroup", "network_mode"}) {
      auto it = svc.find(key);
      if (it == svc.end() || !it->is_string()) continue;
      const std::string mode = it->get<std::string>();
      if (mode == "host" && std::string(key) != "network_mode")  // network_mode host: check_network_mode
        return tl::unexpected<Denial>(Denial{"host_namespaces", "services." + name + "." + key,
                                             "the host's namespaces are not allowed for non-root callers"});
      // Another stack's container (someone else's, perhaps): its processes
      // or network would be this caller's to reach.
      if (mode.rfind("container:", 0) == 0 && !own.count(mode.substr(10)))
        return tl::unexpected<Denial>(Denial{"host_namespaces", "services." + name + "." + key,
                                             "joining a container outside this stack is not allowed for non-root "
                                             "callers"});
    }
  }
  return {};
}

struct Gate {
  const AuthzPolicy& policy;
  Engine& engine;
  const ApiRequest& req;
  const PathResolver& resolve;
  const std::string& stack;

  AuthzResult up(const json& j) {
    auto it = j.find("project");
    if (it == j.end() || !it->is_object()) return unchecked("project", "missing; the policy cannot check the request");
    // The same parser the route uses, so the policy sees what the engine gets.
    auto project = compose::project_from_json(it->dump());
    if (!project) return unchecked("project", project.error().message() + "; the policy cannot check it");
    if (auto r = check_raw_namespaces(policy, *it); !r) return r;
    return check_project(policy, *project, resolve);
  }

  // The stored project's `services` (all when empty). No stack: nothing the
  // engine could act on, so the route answers (404).
  AuthzResult stored(const std::vector<std::string>& services) {
    auto project = engine.project(stack);
    if (!project) {
      if (project.error().code == ENOENT) return {};
      return unchecked("stack " + stack, "cannot read its project: " + project.error().message());
    }
    if (services.empty()) {
      for (const auto& [name, s] : project->services)
        if (auto r = check_service(policy, *project, name, resolve); !r) return r;
      return {};
    }
    for (const auto& name : services)
      if (auto r = check_service(policy, *project, name, resolve); !r) return r;
    return {};
  }

  AuthzResult lifecycle(const json& j) {
    std::vector<std::string> services;
    if (auto r = read_field(j, "services", services); !r) return unchecked("services", r.error().message());
    return stored(services);
  }

  AuthzResult scale(const json& j) {
    auto it = j.find("replicas");
    if (it == j.end() || !it->is_object()) return unchecked("replicas", "expected an object; the policy cannot check it");
    std::vector<std::string> services;
    for (auto& [name, n] : it->items()) services.push_back(name);
    if (services.empty()) return unchecked("replicas", "empty; the policy cannot check it");
    return stored(services);
  }

  // What the rollback would run: the service's previous definition, checked
  // as an up of it would be.
  AuthzResult rollback(const json& j) {
    auto it = j.find("service");
    if (it == j.end() || !it->is_string()) return unchecked("service", "expected a string; the policy cannot check it");
    auto project = engine.rollback_target(stack, it->get<std::string>());
    if (!project) return unchecked("service", project.error().message());
    return check_service(policy, *project, it->get<std::string>(), resolve);
  }

  AuthzResult exec(const json& j, bool run) {
    auto er = exec_request_from_json(j, run ? std::vector<std::string>{"rm"} : std::vector<std::string>{});
    if (!er) return unchecked("request body", er.error().message() + "; the policy cannot check it");
    return stored({er->service});
  }
};

// Image routes (image_routes.h). pull fetches what the name means at the
// registry stackd is configured for, as `up` already does for any caller;
// remove and prune only take away, as down does. load and import set what a
// name means to content the caller chose: a root stack started from that
// name (even a privileged one) would run it, so they are root's. push sends
// the store's content out with stackd's registry credentials: root's too.
AuthzResult image_request(const std::string& verb, const std::string& what) {
  if (verb == "pull" || verb == "remove" || verb == "prune") return {};
  if (verb == "load" || verb == "import")
    return unchecked(what, "only root may load or import images: the names they set are what every stack, "
                           "root's included, runs");
  if (verb == "push") return unchecked(what, "only root may push images: stackd pushes with its own registry credentials");
  return unchecked(what, "not a request the policy knows");
}

}  // namespace

AuthzResult authorize_request(const AuthzPolicy& policy, Engine& engine, const ApiRequest& req,
                              const PathResolver& resolve) {
  // The join tokens are the keys to the cluster: whoever holds one can add
  // a node, so reading them is root's, as is every cluster change.
  if (req.path == "/v1/cluster/join-tokens")
    return unchecked("GET " + req.path, "only root may read the cluster's join tokens");
  // Every other GET only reads (version, stacks, ps, logs, top, stats,
  // events, inspect, nodes). A GET route that changed something would be a
  // bug there.
  if (req.method == "GET") return {};
  auto parts = split_path(req.path);  // "", "v1", "stacks", stack, verb
  std::string what = req.method + " " + req.path;
  if (req.method == "POST" && parts.size() == 4 && parts[0].empty() && parts[1] == "v1" && parts[2] == "images")
    return image_request(parts[3], what);
  if (req.method != "POST" || parts.size() != 5 || !parts[0].empty() || parts[1] != "v1" || parts[2] != "stacks")
    return unchecked(what, "not a request the policy knows");
  const std::string& verb = parts[4];
  // down and stop only take containers away; plan changes nothing.
  if (verb == "down" || verb == "stop" || verb == "plan") return {};
  auto body = body_of(req);
  if (!body) return tl::unexpected(body.error());
  Gate g{policy, engine, req, resolve, parts[3]};
  if (verb == "up") return g.up(*body);
  if (verb == "start" || verb == "restart") return g.lifecycle(*body);
  if (verb == "scale") return g.scale(*body);
  if (verb == "rollback") return g.rollback(*body);
  if (verb == "exec" || verb == "run") return g.exec(*body, verb == "run");
  if (verb == "attach") return g.exec(*body, false);  // the same body: the service it reaches
  return unchecked(what, "not a request the policy knows");
}

}  // namespace stack::orch
