// stack-bench-sim-nodes: many simulated cluster nodes in one process, for
// the scale benchmark (bench/cluster_scale_bench.sh). Each node is what the
// leader sees of a real one: its record (nodes/<id>), its heartbeat under a
// lease of its own (alive/<id>, kept alive), and reports (tasks/<id>/...)
// for what the leader assigns it. Containers are pretended: an assignment
// is answered "running" at once, a removed one's report deleted. One watch
// on assign/ serves every node; reports go in transactions of up to 128
// operations (etcd's default limit per transaction).
//
//   stack-bench-sim-nodes --root <a manager's root> --nodes 1000 [--prefix sim-] [--times FILE]
//
// --times: each assignment's arrival (ms since the epoch), one per line,
// written at the end.
//
// It talks to etcd as that manager (its cluster.json and certificate).
// Runs until SIGINT/SIGTERM, then removes its nodes (records, heartbeats,
// reports) and prints what it did as one JSON line.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/api/cluster_json.h"
#include "orchestrator/cluster/cluster_config.h"
#include "orchestrator/daemon/cluster/assignment.h"
#include "orchestrator/daemon/cluster/cluster_init.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/daemon/store/etcd_store.h"

namespace keys = stack::orch::cluster_keys;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> g_stop{false};
// SIGUSR1: print the figures so far (one JSON line) and go on.
std::atomic<bool> g_snapshot{false};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void die(const std::string& why) {
  std::cerr << "stack-bench-sim-nodes: " << why << "\n";
  std::exit(1);
}

void commit(stack::orch::StateStore& store, std::vector<stack::orch::StoreOp>& ops, uint64_t& txns) {
  txns += (ops.size() + stack::orch::kMaxTxnOps - 1) / stack::orch::kMaxTxnOps;
  if (auto r = store.commit_chunked(ops); !r) std::cerr << "stack-bench-sim-nodes: txn: " << r.error().message() << "\n";
  ops.clear();
}

}  // namespace

int main(int argc, char** argv) {
  std::string root, prefix = "sim-", times_file;
  int count = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--root") root = argv[i + 1];
    else if (a == "--nodes") count = std::atoi(argv[i + 1]);
    else if (a == "--prefix") prefix = argv[i + 1];
    else if (a == "--times") times_file = argv[i + 1];
    else die("unknown flag " + a);
  }
  if (root.empty() || count <= 0) die("usage: --root DIR --nodes N [--prefix P]");
  auto config = stack::cluster::load_cluster_config(root);
  if (!config || !*config) die("no cluster.json under " + root);
  auto etcd = stack::orch::cluster_etcd_options(root, **config);
  auto opened = stack::orch::open_etcd_store(etcd);
  if (!opened) die(opened.error().message());
  stack::orch::StateStore& store = **opened;
  ::signal(SIGINT, [](int) { g_stop = true; });
  ::signal(SIGTERM, [](int) { g_stop = true; });
  ::signal(SIGUSR1, [](int) { g_snapshot = true; });

  // The nodes: records first, then a heartbeat each under its own lease.
  std::vector<std::string> ids;
  std::vector<stack::orch::LeaseId> leases;
  std::vector<stack::orch::StoreOp> ops;
  uint64_t txns = 0;
  for (int i = 0; i < count; i++) {
    stack::orch::NodeView n;
    n.id = prefix + std::to_string(i);
    n.hostname = n.id;
    n.address = "10.254." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    n.role = "worker";
    n.cpus = 64;
    n.memory_bytes = int64_t{256} << 30;
    n.os = "linux";
    n.arch = "amd64";
    ids.push_back(n.id);
    ops.push_back({stack::orch::StoreOp::Put, keys::node(n.id), stack::orch::to_json(n).dump(), 0});
  }
  commit(store, ops, txns);
  for (const auto& id : ids) {
    auto lease = store.lease_grant(keys::kLeaseSeconds);
    if (!lease) die("lease: " + lease.error().message());
    leases.push_back(*lease);
    ops.push_back({stack::orch::StoreOp::Put, keys::alive(id), id, *lease});
  }
  commit(store, ops, txns);
  std::cerr << "stack-bench-sim-nodes: " << count << " nodes ready\n";

  // Keep-alives: each lease every sixth of its TTL, as LeaseHolder does.
  std::thread keeper([&] {
    while (!g_stop) {
      const auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(keys::kLeaseSeconds * 1000 / 6);
      for (auto l : leases)
        if (auto k = store.lease_keep_alive(l); !k && !g_stop)
          std::cerr << "stack-bench-sim-nodes: keep-alive: " << k.error().message() << "\n";
      std::this_thread::sleep_until(next);
    }
  });

  // Assignments in, reports out.
  auto watch = store.watch(keys::kAssign, {.prefix = true});
  if (!watch) die("watch: " + watch.error().message());
  uint64_t assigned = 0, removed = 0, assign_bytes = 0;
  std::vector<int64_t> arrivals;
  auto revision = [&]() -> int64_t {
    auto r = store.range(keys::kLeader);
    return r ? r->revision : 0;
  };
  const int64_t revision_start = revision();
  // etcd's revision goes up by one per write transaction: all of them,
  // the leader's and ours, while the nodes ran.
  auto print_figures = [&](int64_t revision_now) {
    std::cout << nlohmann::json{{"nodes", count},
                                {"assigned", assigned},
                                {"removed", removed},
                                {"assign_bytes", assign_bytes},
                                {"report_txns", txns},
                                {"etcd_revisions", revision_now - revision_start}}
                     .dump()
              << std::endl;
  };
  while (!g_stop) {
    auto events = (*watch)->wait(200ms);
    if (!events) die("watch: " + events.error().message());
    for (const auto& e : *events) {
      const std::string rest = e.kv.key.substr(std::string(keys::kAssign).size());  // <node>/<id>
      const auto slash = rest.find('/');
      if (slash == std::string::npos || rest.rfind(prefix, 0) != 0) continue;
      const std::string node = rest.substr(0, slash), id = rest.substr(slash + 1);
      if (e.type == stack::orch::WatchEvent::Delete) {
        ops.push_back({stack::orch::StoreOp::Delete, keys::tasks(node) + id, "", 0});
        removed++;
        continue;
      }
      stack::orch::TaskReport report;
      report.runtime.id = id;
      report.runtime.pid = 1;
      report.runtime.started_at_ms = now_ms();
      ops.push_back({stack::orch::StoreOp::Put, keys::tasks(node) + id, stack::orch::report_to_json(report), 0});
      arrivals.push_back(now_ms());
      assigned++;
      assign_bytes += e.kv.value.size();
    }
    commit(store, ops, txns);
    if (g_snapshot.exchange(false)) print_figures(revision());
  }

  keeper.join();
  const int64_t revision_end = revision();
  if (!times_file.empty()) {
    FILE* f = std::fopen(times_file.c_str(), "w");
    if (!f) die("open " + times_file);
    for (auto t : arrivals) std::fprintf(f, "%lld\n", static_cast<long long>(t));
    std::fclose(f);
  }
  for (size_t i = 0; i < ids.size(); i++) {
    (void)store.lease_revoke(leases[i]);
    ops.push_back({stack::orch::StoreOp::Delete, keys::node(ids[i]), "", 0});
    ops.push_back({stack::orch::StoreOp::DeletePrefix, keys::tasks(ids[i]), "", 0});
  }
  commit(store, ops, txns);
  print_figures(revision_end);
  return 0;
}
