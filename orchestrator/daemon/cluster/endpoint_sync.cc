#include "orchestrator/daemon/cluster/endpoint_sync.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "orchestrator/daemon/cluster/cluster_init.h"
#include "orchestrator/daemon/store/etcd_members.h"

namespace stack::orch {
namespace {

constexpr auto kPeriod = std::chrono::seconds(5);
// While the running endpoints fail, they are tried every second, and a
// node gives up on them after 3 s: what it does not reach, it does not
// schedule or report on (a worker whose only manager left is down to the
// leader from then on). Restarting costs a node little: its containers keep
// running and it is back in about a second.
constexpr auto kFailingPeriod = std::chrono::seconds(1);
constexpr auto kSilence = std::chrono::seconds(3);

bool loopback(const std::string& url) { return url.find("://127.0.0.1:") != std::string::npos; }

}  // namespace

EndpointSync::EndpointSync(std::string root, cluster::ClusterConfig running, std::function<void()> restart)
    : root_(std::move(root)), running_(std::move(running)), restart_(std::move(restart)) {
  thread_ = std::thread([this] { run(); });
}

EndpointSync::~EndpointSync() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool EndpointSync::sync_once() {
  EtcdOptions etcd = cluster_etcd_options(root_, running_);
  etcd.dial_timeout = std::chrono::seconds(2);
  etcd.request_timeout = std::chrono::seconds(2);
  auto members = etcd_member_list(etcd);
  if (!members) return false;
  std::vector<std::string> urls;
  for (const auto& m : *members)
    for (const auto& u : m.client_urls)
      if (!loopback(u)) urls.push_back(u);
  std::sort(urls.begin(), urls.end());
  if (urls.empty()) return true;
  // Only the endpoints change, and only in the config this stackd runs: a
  // role change or a leave (another config, or none) is not undone.
  auto lock = cluster::lock_cluster_files(root_);
  if (!lock) {
    spdlog::warn("cluster: etcd endpoints: {}", lock.error().message());
    return true;
  }
  auto saved = cluster::load_cluster_config(root_);
  if (!saved || !*saved || (*saved)->node_id != running_.node_id || (*saved)->role != running_.role) return true;
  std::vector<std::string> wanted;
  for (const auto& e : (*saved)->etcd_endpoints)
    if (loopback(e)) wanted.push_back(e);  // a manager's own member first
  wanted.insert(wanted.end(), urls.begin(), urls.end());
  if (wanted == (*saved)->etcd_endpoints) return true;
  cluster::ClusterConfig next = **saved;
  next.etcd_endpoints = wanted;
  if (auto w = cluster::save_cluster_config(root_, next); !w)
    spdlog::warn("cluster: etcd endpoints: {}", w.error().message());
  else
    spdlog::info("cluster: etcd's members answer on {} endpoint(s) now; cluster.json follows", urls.size());
  return true;
}

void EndpointSync::run() {
  auto last_answer = std::chrono::steady_clock::now();
  auto period = kPeriod;
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, period, [this] { return stopping_; })) {
    lock.unlock();
    const auto now = std::chrono::steady_clock::now();
    bool restart = false;
    const bool answered = sync_once();
    period = answered ? kPeriod : kFailingPeriod;
    if (answered) {
      last_answer = now;
    } else if (now - last_answer >= kSilence) {
      auto saved = cluster::load_cluster_config(root_);
      if (saved && *saved)
        for (const auto& e : (*saved)->etcd_endpoints)
          restart |= std::find(running_.etcd_endpoints.begin(), running_.etcd_endpoints.end(), e) ==
                     running_.etcd_endpoints.end();
    }
    if (restart) {
      spdlog::warn("cluster: etcd has not answered on the endpoints this stackd opened for {} s; restarting "
                   "onto the ones etcd's members named since",
                   std::chrono::duration_cast<std::chrono::seconds>(kSilence).count());
      if (restart_) restart_();
      return;
    }
    lock.lock();
  }
}

}  // namespace stack::orch
