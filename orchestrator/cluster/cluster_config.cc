#include "orchestrator/cluster/cluster_config.h"

#include <sys/file.h>

#include <nlohmann/json.hpp>

#include "base/io.h"

namespace stack::cluster {

using nlohmann::json;

ClusterPaths ClusterPaths::under(const std::string& root) {
  ClusterPaths p;
  p.dir = root + "/cluster";
  p.config = p.dir + "/cluster.json";
  p.ca_cert = p.dir + "/ca.pem";
  p.ca_key = p.dir + "/ca.key";
  p.node_cert = p.dir + "/node.pem";
  p.node_key = p.dir + "/node.key";
  p.etcd_dir = root + "/etcd";
  return p;
}

namespace {

std::string host_port(const std::string& addr, int port) {
  bool v6 = addr.find(':') != std::string::npos;
  return (v6 ? "[" + addr + "]" : addr) + ":" + std::to_string(port);
}

}  // namespace

std::string https_url(const std::string& addr, int port) { return "https://" + host_port(addr, port); }

std::string join_address(const ClusterConfig& config) { return host_port(config.advertise_addr, config.api_port); }

stack::Result<std::optional<ClusterConfig>> load_cluster_config(const std::string& root) {
  auto path = ClusterPaths::under(root).config;
  auto text = io::read_file(path);
  if (!text) {
    if (text.error().code == ENOENT) return std::optional<ClusterConfig>();
    return tl::unexpected(text.error());
  }
  try {
    auto j = json::parse(*text);
    ClusterConfig c;
    c.cluster_id = j.at("cluster_id").get<std::string>();
    c.node_id = j.at("node_id").get<std::string>();
    auto role = parse_role(j.at("role").get<std::string>());
    if (!role) return tl::unexpected(role.error().wrap(path));
    c.role = *role;
    c.advertise_addr = j.at("advertise_addr").get<std::string>();
    c.api_port = j.at("api_port").get<int>();
    c.etcd_client_port = j.at("etcd_client_port").get<int>();
    c.etcd_peer_port = j.at("etcd_peer_port").get<int>();
    c.etcd_endpoints = j.at("etcd_endpoints").get<std::vector<std::string>>();
    c.etcd_initial_cluster = j.value("etcd_initial_cluster", "");
    c.etcd_initial_state = j.value("etcd_initial_state", "new");
    if (!valid_node_id(c.node_id)) return stack::fail(path + ": node_id \"" + c.node_id + "\" is not a node id");
    if (c.etcd_endpoints.empty()) return stack::fail(path + ": etcd_endpoints is empty");
    return std::optional<ClusterConfig>(std::move(c));
  } catch (const json::exception& e) {
    return stack::fail(path + ": " + e.what());
  }
}

stack::Result<UniqueFd> lock_cluster_files(const std::string& root) {
  const std::string path = root + "/cluster.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return stack::fail_errno("open " + path);
  int rc;
  while ((rc = ::flock(fd.get(), LOCK_EX)) < 0 && errno == EINTR) {
  }
  if (rc < 0) return stack::fail_errno("lock " + path);
  return fd;
}

stack::Result<void> write_cluster_file(const std::string& path, const std::string& content, unsigned mode) {
  return io::write_file_atomic(path, content, static_cast<mode_t>(mode), io::Durability::Disk);
}

stack::Result<void> save_cluster_config(const std::string& root, const ClusterConfig& c) {
  json j = {{"cluster_id", c.cluster_id},
            {"node_id", c.node_id},
            {"role", role_name(c.role)},
            {"advertise_addr", c.advertise_addr},
            {"api_port", c.api_port},
            {"etcd_client_port", c.etcd_client_port},
            {"etcd_peer_port", c.etcd_peer_port},
            {"etcd_endpoints", c.etcd_endpoints},
            {"etcd_initial_cluster", c.etcd_initial_cluster},
            {"etcd_initial_state", c.etcd_initial_state}};
  return write_cluster_file(ClusterPaths::under(root).config, j.dump(2) + "\n", 0600);
}

}  // namespace stack::cluster
