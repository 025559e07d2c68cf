#include "orchestrator/daemon/server/cluster_routes.h"

#include <nlohmann/json.hpp>

#include "orchestrator/api/cluster_json.h"
#include "orchestrator/daemon/cluster/cluster_service.h"

namespace stack::orch {

using nlohmann::json;

bool is_cluster_route(const std::string& path) {
  return path == "/v1/nodes" || path.rfind("/v1/nodes/", 0) == 0 || path.rfind("/v1/cluster/", 0) == 0;
}

void handle_cluster_request(const ServerInfo& info, const ApiRequest& req, ApiResponder& out) {
  auto fail = [&](int status, const std::string& message) { out.reply(status, json{{"error", message}}.dump()); };
  auto check = [&](const auto& r) {
    if (!r) fail(status_for(r.error()), error_text(r.error()));
    return static_cast<bool>(r);
  };
  if (!info.cluster) return fail(503, "this stackd runs no cluster service");
  ClusterService& cluster = *info.cluster;
  const bool node_rm = req.method == "DELETE" && req.path.rfind("/v1/nodes/", 0) == 0;
  if (auto k = req.unknown_query_key(node_rm ? std::vector<std::string>{"force"} : std::vector<std::string>{});
      !k.empty())
    return fail(400, "unknown query parameter \"" + k + "\"");
  if (req.path == "/v1/cluster/init" && req.method == "POST") {
    auto body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (body.is_discarded()) return fail(400, "cluster init: the body is not JSON");
    auto request = cluster_init_request_from_json(body);
    if (!check(request)) return;
    auto result = cluster.init(*request);
    if (!check(result)) return;
    out.reply(200, to_json(*result).dump());
    cluster.after_reply();
    return;
  }
  if (req.path == "/v1/cluster/join" && req.method == "POST") {
    auto request = cluster_join_request_from_json(json::parse(req.body.empty() ? "{}" : req.body, nullptr, false));
    if (!check(request)) return;
    auto result = cluster.join(*request);
    if (!check(result)) return;
    out.reply(200, to_json(*result).dump());
    cluster.after_reply();
    return;
  }
  if (req.path == "/v1/cluster/leave" && req.method == "POST") {
    auto result = cluster.leave();
    if (!check(result)) return;
    out.reply(200, to_json(*result).dump());
    cluster.after_reply();
    return;
  }
  if (req.path == "/v1/cluster/join-tokens" && req.method == "GET") {
    auto result = cluster.join_info();
    if (!check(result)) return;
    return out.reply(200, to_json(*result).dump());
  }
  // POST /v1/nodes/<node>/promote, /demote
  for (const auto& [suffix, role] : {std::pair<std::string, cluster::Role>{"/promote", cluster::Role::Manager},
                                     std::pair<std::string, cluster::Role>{"/demote", cluster::Role::Worker}})
    if (req.method == "POST" && req.path.rfind("/v1/nodes/", 0) == 0 && req.path.size() > 10 + suffix.size() &&
        req.path.compare(req.path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      auto result = cluster.change_role(req.path.substr(10, req.path.size() - 10 - suffix.size()), role);
      if (!check(result)) return;
      return out.reply(200, to_json(*result).dump());
    }
  // POST /v1/nodes/<node>/update
  if (req.method == "POST" && req.path.rfind("/v1/nodes/", 0) == 0 && req.path.size() > 17 &&
      req.path.compare(req.path.size() - 7, 7, "/update") == 0) {
    const std::string ref = req.path.substr(10, req.path.size() - 17);
    auto body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (body.is_discarded()) return fail(400, "node update: the body is not JSON");
    auto request = node_update_request_from_json(body);
    if (!check(request)) return;
    auto result = cluster.update_node(ref, *request);
    if (!check(result)) return;
    return out.reply(200, to_json(*result).dump());
  }
  // GET /v1/nodes/<node> (inspect), DELETE /v1/nodes/<node>[?force=1] (rm)
  if (req.path.rfind("/v1/nodes/", 0) == 0 && req.path.size() > 10 &&
      req.path.find('/', 10) == std::string::npos && (req.method == "GET" || req.method == "DELETE")) {
    const std::string ref = req.path.substr(10);
    const std::string force = req.query_value("force");
    auto result = req.method == "GET" ? cluster.inspect_node(ref)
                                      : cluster.remove_node(ref, force == "1" || force == "true");
    if (!check(result)) return;
    return out.reply(200, to_json(*result).dump());
  }
  if (req.path == "/v1/nodes" && req.method == "GET") {
    auto nodes = cluster.nodes();
    if (!check(nodes)) return;
    json list = json::array();
    for (const auto& n : *nodes) list.push_back(to_json(n));
    return out.reply(200, list.dump());
  }
  fail(404, "no such endpoint: " + req.method + " " + req.path);
}

}  // namespace stack::orch
