#include "orchestrator/cli/node_commands.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "orchestrator/api/cluster_json.h"
#include "orchestrator/cli/human_bytes.h"

namespace stack::cli {
namespace {

using nlohmann::json;
using orch::ClusterJoinInfo;

struct NodeFlags {
  orch::ClusterInitRequest init;
  orch::NodeUpdateRequest update;
  std::vector<std::string> label_add;  // k=v
  std::string node;
  orch::ClusterJoinRequest join;
  std::string format;
  bool quiet = false;
  bool force = false;
  std::string role;
  std::vector<std::string> nodes;  // inspect, rm
};

// After init, stackd restarts onto the cluster's etcd: the verb returns
// once the new stackd answers for the cluster (a later `node ls` works).
stack::Result<void> wait_for_cluster(const ClientOptions& client) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  stack::Error last{0, "no answer"};
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto c = ApiClient::connect(client);
    if (!c) {
      last = c.error();
      continue;
    }
    auto nodes = c->call("GET", "/v1/nodes");
    if (nodes) return {};
    last = nodes.error();
  }
  return stack::fail("stackd did not come back on the cluster's store within 60 s (" + last.message() +
                     "); see its log");
}

void print_join(const ClusterJoinInfo& info, const std::string& role) {
  const std::string& token = role == "manager" ? info.manager_token : info.worker_token;
  std::cout << "To add a " << role << " to this cluster, run on it:\n\n"
            << "    stack node join --token " << token << " " << info.manager_address << "\n\n";
}

stack::Result<> cmd_init(const ClientOptions& client, const orch::ClusterInitRequest& request) {
  auto c = ApiClient::connect(client);
  if (!c) return tl::unexpected(c.error());
  auto reply = c->call("POST", "/v1/cluster/init", orch::to_json(request));
  if (!reply) return tl::unexpected(reply.error());
  auto info = orch::join_info_from_json(*reply);
  if (!info) return tl::unexpected(info.error());
  STACK_TRY(wait_for_cluster(client));
  std::cout << "Cluster " << info->cluster_id << " initialized: this node (" << info->node_id
            << ") is now its manager.\n\n";
  print_join(*info, "worker");
  std::cout << "To add a manager, run `stack node join-token manager` and follow the instructions.\n";
  return {};
}

stack::Result<> cmd_join(const ClientOptions& client, const orch::ClusterJoinRequest& request) {
  auto c = ApiClient::connect(client);
  if (!c) return tl::unexpected(c.error());
  auto reply = c->call("POST", "/v1/cluster/join", orch::to_json(request));
  if (!reply) return tl::unexpected(reply.error());
  auto result = orch::join_result_from_json(*reply);
  if (!result) return tl::unexpected(result.error());
  STACK_TRY(wait_for_cluster(client));
  std::cout << "This node joined cluster " << result->cluster_id << " as a " << result->role << " (node "
            << result->node_id << ").\n";
  return {};
}

stack::Result<> cmd_join_token(const ClientOptions& client, const std::string& role, bool quiet) {
  if (role != "worker" && role != "manager")
    return stack::fail("node join-token: expected worker or manager, got \"" + role + "\"");
  auto c = ApiClient::connect(client);
  if (!c) return tl::unexpected(c.error());
  auto reply = c->call("GET", "/v1/cluster/join-tokens");
  if (!reply) return tl::unexpected(reply.error());
  auto info = orch::join_info_from_json(*reply);
  if (!info) return tl::unexpected(info.error());
  if (quiet)
    std::cout << (role == "manager" ? info->manager_token : info->worker_token) << "\n";
  else
    print_join(*info, role);
  return {};
}

stack::Result<> cmd_ls(const ClientOptions& client, const std::string& format, bool quiet) {
  if (!format.empty() && format != "json" && format != "table")
    return stack::fail("node ls: --format must be table or json, got \"" + format + "\"");
  auto c = ApiClient::connect(client);
  if (!c) return tl::unexpected(c.error());
  auto reply = c->call("GET", "/v1/nodes");
  if (!reply) return tl::unexpected(reply.error());
  auto nodes = orch::nodes_from_json(*reply);
  if (!nodes) return tl::unexpected(nodes.error());
  if (format == "json") {
    std::cout << reply->dump(2) << "\n";
    return {};
  }
  if (quiet) {
    for (const auto& n : *nodes) std::cout << n.id << "\n";
    return {};
  }
  std::printf("%-23s %-20s %-7s %-13s %-15s %-5s %-9s %s\n", "ID", "HOSTNAME", "STATUS", "AVAILABILITY",
              "MANAGER STATUS", "CPUS", "MEMORY", "ADDRESS");
  for (const auto& n : *nodes) {
    std::string manager = n.role != "manager" ? "" : n.leader ? "Leader" : n.status == "ready" ? "Reachable" : "Unreachable";
    std::printf("%-23s %-20s %-7s %-13s %-15s %-5d %-9s %s\n", (n.id + (n.self ? " *" : "")).c_str(),
                n.hostname.c_str(), n.status == "ready" ? "Ready" : "Down",
                n.availability == "active" ? "Active" : n.availability == "drain" ? "Drain" : "Pause",
                manager.c_str(), n.cpus, human_bytes(static_cast<double>(n.memory_bytes)).c_str(), n.address.c_str());
  }
  return {};
}

stack::Result<> cmd_update(const ClientOptions& client, const NodeFlags& f) {
  orch::NodeUpdateRequest request = f.update;
  for (const auto& kv : f.label_add) {
    auto eq = kv.find('=');
    if (eq == 0) return stack::fail("--label-add " + kv + ": expected KEY=VALUE (or KEY)");
    request.label_add[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  if (request.availability.empty() && request.label_add.empty() && request.label_rm.empty())
    return stack::fail("node update: nothing to change (--availability, --label-add, --label-rm)");
  auto c = ApiClient::connect(client);
  if (!c) return tl::unexpected(c.error());
  auto reply = c->call("POST", "/v1/nodes/" + f.node + "/update", orch::to_json(request));
  if (!reply) return tl::unexpected(reply.error());
  auto node = orch::node_from_json(*reply);
  if (!node) return tl::unexpected(node.error());
  std::cout << node->id << "\n";
  return {};
}

// `node leave`: stackd stops what it ran for the cluster and restarts as a
// single node; the verb returns once the new stackd answers as one.
stack::Result<> cmd_leave(const ClientOptions& client) {
  auto c = ApiClient::connect(client);
  if (!c) return tl::unexpected(c.error());
  auto reply = c->call("POST", "/v1/cluster/leave");
  if (!reply) return tl::unexpected(reply.error());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (auto again = ApiClient::connect(client)) {
      auto nodes = again->call("GET", "/v1/nodes");
      if (!nodes && nodes.error().context.find("not in a cluster") != std::string::npos) break;
    }
    if (std::chrono::steady_clock::now() > deadline)
      return stack::fail("node leave: stackd did not come back as a single node within 60 s; see its log");
  }
  std::cout << "Node " << reply->value("id", "") << " left the cluster; it is a single node again.\n"
            << "On a manager, `stack node rm " << reply->value("id", "") << "` forgets it.\n";
  return {};
}

// `node inspect`: a JSON array, one object per node named (docker's form).
stack::Result<> cmd_inspect(const ClientOptions& client, const std::vector<std::string>& refs) {
  auto c = ApiClient::connect(client);
  if (!c) return tl::unexpected(c.error());
  json out = json::array();
  for (const auto& ref : refs) {
    auto reply = c->call("GET", "/v1/nodes/" + ref);
    if (!reply) return tl::unexpected(reply.error());
    out.push_back(*reply);
  }
  std::cout << out.dump(2) << "\n";
  return {};
}

// `node rm`: each id as it goes; the first refusal stops (the rest stay).
stack::Result<> cmd_rm(const ClientOptions& client, const std::vector<std::string>& refs, bool force) {
  auto c = ApiClient::connect(client);
  if (!c) return tl::unexpected(c.error());
  for (const auto& ref : refs) {
    auto reply = c->call("DELETE", "/v1/nodes/" + ref + (force ? "?force=1" : ""));
    if (!reply) return tl::unexpected(reply.error());
    std::cout << reply->value("id", ref) << "\n";
  }
  return {};
}

// `node promote` / `node demote`: each id once its node took the new role.
stack::Result<> cmd_role(const ClientOptions& client, const std::vector<std::string>& refs, const std::string& verb) {
  auto c = ApiClient::connect(client);
  if (!c) return tl::unexpected(c.error());
  for (const auto& ref : refs) {
    auto reply = c->call("POST", "/v1/nodes/" + ref + "/" + verb);
    if (!reply) return tl::unexpected(reply.error());
    std::cout << "Node " << reply->value("id", ref) << " is now a " << reply->value("role", "") << ".\n";
  }
  return {};
}

}  // namespace

void add_node_verbs(CLI::App& app, const ClientOptions* client, std::function<stack::Result<>()>& action) {
  auto flags = std::make_shared<NodeFlags>();
  auto* node = app.add_subcommand("node", "form and inspect a cluster of stackd nodes");
  node->require_subcommand(1);
  auto* init = node->add_subcommand("init", "make this node the first manager of a new cluster");
  init->add_option("--advertise-addr", flags->init.advertise_addr,
                   "the address other nodes reach this one on (default: its only non-loopback address)");
  init->add_option("--api-port", flags->init.api_port, "where nodes join (default 2377)");
  init->add_option("--etcd-client-port", flags->init.etcd_client_port, "the etcd member's client port (default 2379)");
  init->add_option("--etcd-peer-port", flags->init.etcd_peer_port, "the etcd member's peer port (default 2380)");
  init->callback([flags, client, &action] { action = [flags, client] { return cmd_init(*client, flags->init); }; });
  auto* join = node->add_subcommand("join", "join a cluster as a worker or a manager (the token says which)");
  join->add_option("--token", flags->join.token, "the token `stack node join-token` printed")->required();
  join->add_option("manager", flags->join.manager, "a manager's address, ADDR[:PORT] (default port 2377)")->required();
  join->add_option("--advertise-addr", flags->join.advertise_addr,
                   "the address the others reach this node on (default: its only non-loopback address)");
  join->add_option("--api-port", flags->join.api_port, "a joining manager's join endpoint (default 2377)");
  join->add_option("--etcd-client-port", flags->join.etcd_client_port, "a joining manager's etcd client port (2379)");
  join->add_option("--etcd-peer-port", flags->join.etcd_peer_port, "a joining manager's etcd peer port (2380)");
  join->callback([flags, client, &action] { action = [flags, client] { return cmd_join(*client, flags->join); }; });
  auto* ls = node->add_subcommand("ls", "list the cluster's nodes");
  ls->add_flag("-q,--quiet", flags->quiet, "only the ids");
  ls->add_option("--format", flags->format, "table or json");
  ls->callback([flags, client, &action] {
    action = [flags, client] { return cmd_ls(*client, flags->format, flags->quiet); };
  });
  auto* update = node->add_subcommand("update", "change a node's availability or labels (on a manager)");
  update->add_option("--availability", flags->update.availability, "active, pause (no new replicas) or drain (move them off)")
      ->check(CLI::IsMember({"active", "pause", "drain"}));
  update->add_option("--label-add", flags->label_add, "KEY=VALUE (repeatable)");
  update->add_option("--label-rm", flags->update.label_rm, "KEY (repeatable)");
  update->add_option("node", flags->node, "node id, id prefix or hostname")->required();
  update->callback([flags, client, &action] { action = [flags, client] { return cmd_update(*client, *flags); }; });
  auto* inspect = node->add_subcommand("inspect", "a node's record as JSON (id, role, status, labels, resources, tasks)");
  inspect->add_option("node", flags->nodes, "node id, id prefix or hostname")->required();
  inspect->callback([flags, client, &action] { action = [flags, client] { return cmd_inspect(*client, flags->nodes); }; });
  auto* rm = node->add_subcommand("rm", "remove down nodes from the cluster (on a manager); their replicas run elsewhere");
  rm->add_flag("-f,--force", flags->force, "also a node that is not down (it is cut off; its containers keep running there)");
  rm->add_option("node", flags->nodes, "node id, id prefix or hostname")->required();
  rm->callback([flags, client, &action] {
    action = [flags, client] { return cmd_rm(*client, flags->nodes, flags->force); };
  });
  for (const char* verb : {"promote", "demote"}) {
    auto* sub = node->add_subcommand(verb, std::string(verb) == "promote"
                                               ? "make workers managers (an etcd member each; on a manager)"
                                               : "make managers workers (their etcd members go; on another manager)");
    sub->add_option("node", flags->nodes, "node id, id prefix or hostname")->required();
    sub->callback([flags, client, &action, verb] {
      action = [flags, client, verb] { return cmd_role(*client, flags->nodes, verb); };
    });
  }
  auto* leave = node->add_subcommand(
      "leave", "leave the cluster: its containers stop, the leader runs them elsewhere (a manager also hands over "
               "the lead and removes its etcd member)");
  leave->callback([client, &action] { action = [client] { return cmd_leave(*client); }; });
  auto* token = node->add_subcommand("join-token", "print the command that joins a worker or a manager");
  token->add_option("role", flags->role, "worker or manager")->required();
  token->add_flag("-q,--quiet", flags->quiet, "only the token");
  token->callback([flags, client, &action] {
    action = [flags, client] { return cmd_join_token(*client, flags->role, flags->quiet); };
  });
}

}  // namespace stack::cli
