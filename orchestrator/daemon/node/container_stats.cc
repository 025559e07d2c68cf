#include "orchestrator/daemon/node/container_stats.h"
#include "orchestrator/daemon/node/node_record.h"

#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/io.h"
#include "orchestrator/daemon/node/shim_processes.h"
#include "runtime/container/container.h"
#include "runtime/container/state.h"
#include "runtime/kernel/cgroup.h"

namespace stack::orch {
namespace {

using nlohmann::json;

std::string user_name(uint32_t uid, const std::string& passwd) {
  std::istringstream in(passwd);
  for (std::string line; std::getline(in, line);) {
    auto c1 = line.find(':'), c2 = line.find(':', c1 + 1), c3 = line.find(':', c2 + 1);
    if (c3 == std::string::npos) continue;
    if (line.substr(c2 + 1, c3 - c2 - 1) == std::to_string(uid)) return line.substr(0, c1);
  }
  return std::to_string(uid);
}

int64_t now_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

NetCounters parse_net_dev(const std::string& text) {
  NetCounters c;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    std::string ifname = line.substr(0, colon);
    ifname.erase(0, ifname.find_first_not_of(' '));
    if (ifname == "lo") continue;
    std::istringstream f(line.substr(colon + 1));
    uint64_t v[9] = {};
    for (auto& x : v) f >> x;
    c.rx_bytes += v[0];  // receive bytes, then 7 more receive fields,
    c.tx_bytes += v[8];  // then transmit bytes
  }
  return c;
}

stack::Result<std::string> container_top(const std::string& runtime_root, const std::string& id,
                                      const std::string& passwd) {
  auto pids = rt::container_pids(rt::StateDir(runtime_root), id);
  if (!pids) return tl::unexpected(pids.error().wrap("top " + id));
  json out = json::array();
  for (pid_t p : *pids) {
    std::string base = "/proc/" + std::to_string(p);
    std::string cmd = io::read_text(base + "/cmdline");
    if (cmd.empty()) continue;  // gone meanwhile (or a kernel thread)
    while (!cmd.empty() && cmd.back() == '\0') cmd.pop_back();
    for (auto& ch : cmd)
      if (ch == '\0') ch = ' ';
    json e = {{"pid", p}, {"cmd", cmd}};
    std::istringstream st(io::read_text(base + "/status"));
    for (std::string line; std::getline(st, line);) {
      std::istringstream f(line);
      std::string key;
      f >> key;
      if (key == "Uid:") {
        uint32_t uid = 0;
        f >> uid;
        e["user"] = user_name(uid, passwd);
      } else if (key == "PPid:") {
        int pp = 0;
        f >> pp;
        e["ppid"] = pp;
      } else if (key == "State:") {
        std::string s;
        f >> s;
        e["state"] = s;
      }
    }
    out.push_back(e);
  }
  return out.dump();
}

stack::Result<std::string> StatsSampler::stats(const std::string& runtime_root, const std::string& id) {
  rt::StateDir dir(runtime_root);
  auto rec = dir.load(id);
  if (!rec) return tl::unexpected(rec.error().wrap("stats " + id));
  auto cg = rt::make_cgroup_manager(rec->cgroups_path, id);
  if (!cg) return tl::unexpected(cg.error().wrap("stats " + id));
  auto st = (*cg)->stats();
  if (!st) return tl::unexpected(st.error().wrap("stats " + id));
  int64_t t = now_ns();
  Sample prev;
  {
    std::lock_guard lk(mu_);
    auto it = last_.find(id);
    if (it != last_.end()) prev = it->second;
  }
  if (prev.at_ns == 0) {
    // No earlier sample: take one now and another shortly after.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    prev = {t, st->cpu_usage_ns};
    auto again = (*cg)->stats();
    if (again) st = again;
    t = now_ns();
  }
  double cpu = 0;
  if (t > prev.at_ns && st->cpu_usage_ns >= prev.cpu_ns)
    cpu = 100.0 * static_cast<double>(st->cpu_usage_ns - prev.cpu_ns) / static_cast<double>(t - prev.at_ns);
  {
    std::lock_guard lk(mu_);
    last_[id] = {t, st->cpu_usage_ns};
  }
  NetCounters net;
  if (rec->pid > 0 && rt::process_start_time(rec->pid) == rec->pid_start)
    net = parse_net_dev(io::read_text("/proc/" + std::to_string(rec->pid) + "/net/dev"));
  json out = {{"id", id},
              {"cpu_percent", cpu},
              {"cpu_usage_ns", st->cpu_usage_ns},
              {"memory_usage", st->memory_usage},
              {"memory_working_set", st->memory_usage > st->memory_inactive_file
                                         ? st->memory_usage - st->memory_inactive_file
                                         : 0},
              {"memory_limit", st->memory_limit ? json(*st->memory_limit) : json(nullptr)},
              {"pids", st->pids_current},
              {"pids_limit", st->pids_limit ? json(*st->pids_limit) : json(nullptr)},
              {"net_rx_bytes", net.rx_bytes},
              {"net_tx_bytes", net.tx_bytes},
              {"oom_kills", st->oom_kills}};
  return out.dump();
}

stack::Result<std::string> replica_stats(StatsSampler& sampler, net::NetworkManager& networks,
                                         const std::string& runtime_root, const std::string& container_dir,
                                         const std::string& id) {
  auto text = sampler.stats(runtime_root, id);
  if (!text) return text;
  auto out = json::parse(*text);
  uint64_t connections = 0;
  auto rec = NodeRecord::parse(io::read_text(container_dir + "/node.json"), container_dir + "/node.json");
  if (rec && !rec->addresses.empty()) {
    auto counts = networks.published_connections();
    if (!counts) return tl::unexpected(counts.error().wrap("stats " + id));
    for (const auto& [_, ip] : rec->addresses)
      if (auto it = counts->find(ip); it != counts->end()) connections += it->second;
  }
  out["published_connections"] = connections;
  return out.dump();
}

void StatsSampler::forget(const std::string& id) {
  std::lock_guard lk(mu_);
  last_.erase(id);
}

}  // namespace stack::orch
