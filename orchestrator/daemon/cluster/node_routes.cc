#include "orchestrator/daemon/cluster/node_routes.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "orchestrator/api/api_json.h"
#include "orchestrator/daemon/cluster/peer_client.h"
#include "orchestrator/daemon/node/log_chunk.h"
#include "orchestrator/daemon/server/http_routes.h"

namespace stack::orch {

using nlohmann::json;

namespace {

constexpr const char* kPrefix = "/v1/node/containers/";
constexpr size_t kLogChunk = 1 << 20;

std::pair<int, std::string> error(int status, const std::string& message) {
  return {status, json{{"error", message}}.dump()};
}

}  // namespace

bool is_node_route(const std::string& target) { return target.rfind(kPrefix, 0) == 0; }

std::string node_exec_target(const std::string& id) { return kPrefix + id + "/exec"; }

namespace {

// The caller, the path's container and verb, checked: the container id, or
// (status, JSON error).
struct Checked {
  std::string id, verb, path;
  std::multimap<std::string, std::string> query;
  int status = 0;
  std::string error;
};

Checked check_request(LocalNode& node, const PeerRequest& request) {
  Checked c;
  auto refuse = [&](int status, const std::string& message) {
    c.status = status;
    c.error = message;
    return c;
  };
  if (!request.peer || request.peer->role != cluster::Role::Manager)
    return refuse(403, "only a manager of this cluster may ask a node about its replicas");
  parse_target(request.target, c.path, c.query);
  const std::string rest = c.path.substr(std::string(kPrefix).size());  // <id>/<verb>
  auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0) return refuse(404, "no such endpoint: " + request.method + " " + c.path);
  c.id = rest.substr(0, slash);
  c.verb = rest.substr(slash + 1);
  if (request.method != (c.verb == "exec" ? "POST" : "GET"))
    return refuse(404, "no such endpoint: " + request.method + " " + c.path);
  auto ids = node.list_ids();
  if (std::find(ids.begin(), ids.end(), c.id) == ids.end()) return refuse(404, "no such container on this node: " + c.id);
  return c;
}

}  // namespace

stack::Result<std::unique_ptr<ExecSession>> open_node_exec(LocalNode& node, const PeerRequest& request) {
  Checked c = check_request(node, request);
  if (c.status) return stack::fail(c.error, peer_errno(c.status));
  if (c.verb != "exec") return stack::fail("no such endpoint: " + request.method + " " + c.path, ENOENT);
  auto exec = exec_request_from_json(json::parse(request.body, nullptr, false));
  if (!exec) return stack::fail("exec: " + exec.error().context, EINVAL);
  return node.exec(c.id, *exec);
}

std::pair<int, std::string> serve_node_route(LocalNode& node, const PeerRequest& request) {
  Checked c = check_request(node, request);
  if (c.status) return error(c.status, c.error);
  const std::string &id = c.id, &verb = c.verb, &path = c.path;
  const auto& query = c.query;
  if (verb == "exec") return error(400, "exec: ask with Connection: Upgrade and Upgrade: stack-stream");
  auto value = [&](const std::string& key) {
    auto it = query.find(key);
    return it == query.end() ? std::string() : it->second;
  };
  if (verb == "top" || verb == "stats") {
    auto r = verb == "top" ? node.top(id) : node.stats(id);
    if (!r) return error(500, r.error().message());
    return {200, *r};
  }
  if (verb != "logs") return error(404, "no such endpoint: GET " + path);
  auto files = node.log_files(id);
  const std::string name = value("file");
  if (name.empty()) return {200, json{{"files", files}}.dump()};
  auto named = std::find_if(files.begin(), files.end(), [&](const std::string& f) {
    return f.size() > name.size() && f.compare(f.size() - name.size(), name.size(), name) == 0 &&
           f[f.size() - name.size() - 1] == '/';
  });
  if (named == files.end()) return error(404, "not a log file of " + id + ": " + name);
  const std::string file = *named;
  uint64_t offset = 0;
  try {
    offset = std::stoull(value("offset").empty() ? "0" : value("offset"));
  } catch (const std::exception&) {
    return error(400, "offset: not a number: " + value("offset"));
  }
  auto lines = read_complete_lines(file, offset, kLogChunk);
  return {200, json{{"lines", lines}, {"offset", offset}}.dump()};
}

}  // namespace stack::orch
