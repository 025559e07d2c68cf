#include "orchestrator/daemon/cluster/node_routes.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "orchestrator/api/api_json.h"
#include "orchestrator/daemon/node/buffered_exec.h"
#include "orchestrator/daemon/node/log_chunk.h"
#include "runtime/image/auth.h"
#include "orchestrator/daemon/server/http_routes.h"

namespace stack::orch {

using nlohmann::json;

namespace {

constexpr const char* kPrefix = "/v1/node/containers/";
constexpr size_t kLogChunk = 1 << 20;
constexpr size_t kExecOutputCap = 8 << 20;  // per stream

std::pair<int, std::string> error(int status, const std::string& message) {
  return {status, json{{"error", message}}.dump()};
}

}  // namespace

bool is_node_route(const std::string& target) { return target.rfind(kPrefix, 0) == 0; }

std::pair<int, std::string> serve_node_route(LocalNode& node, const PeerRequest& request) {
  if (!request.peer || request.peer->role != cluster::Role::Manager)
    return error(403, "only a manager of this cluster may ask a node about its replicas");
  std::string path;
  std::multimap<std::string, std::string> query;
  parse_target(request.target, path, query);
  const std::string rest = path.substr(std::string(kPrefix).size());  // <id>/<verb>
  auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0) return error(404, "no such endpoint: " + request.method + " " + path);
  const std::string id = rest.substr(0, slash), verb = rest.substr(slash + 1);
  if (request.method != (verb == "exec" ? "POST" : "GET"))
    return error(404, "no such endpoint: " + request.method + " " + path);
  auto ids = node.list_ids();
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) return error(404, "no such container on this node: " + id);
  if (verb == "exec") {
    auto exec = exec_request_from_json(json::parse(request.body, nullptr, false));
    if (!exec) return error(400, "exec: " + exec.error().message());
    if (exec->tty || exec->interactive || exec->detach)
      return error(400, "exec: across nodes only without a terminal, stdin or detach");
    auto session = node.exec(id, *exec);
    if (!session) return error(500, session.error().message());
    auto output = collect_exec(**session, kExecOutputCap);
    if (!output) return error(500, output.error().message());
    return {200, json{{"stdout", img::base64_encode(output->out)},
                      {"stderr", img::base64_encode(output->err)},
                      {"exit_code", output->exit_code}}
                     .dump()};
  }
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
