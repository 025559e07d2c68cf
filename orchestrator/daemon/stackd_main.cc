// stackd: the daemon. Holds <root>/stackd.pid locked (flock) so two daemons
// never share a root, opens the state store and the Engine, re-adopts what is
// running (restore), then serves the API on the Unix socket. SIGTERM/SIGINT
// stop serving and the engine's loops; containers keep running under their
// shims, and the next stackd adopts them again (live restore).
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>
#include <vector>
#include <filesystem>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "orchestrator/compose/units.h"
#include "orchestrator/api/api_json.h"
#include "orchestrator/daemon/server/api_server.h"
#include "orchestrator/daemon/server/upload_spool.h"
#include "orchestrator/daemon/server/authz_policy_file.h"
#include "orchestrator/daemon/engine/engine.h"
#include "orchestrator/daemon/node/daemon_options.h"
#include "runtime/kernel/cgroup_rt.h"
#include "orchestrator/cluster/cluster_config.h"
#include "orchestrator/daemon/cluster/cluster_boot.h"
#include "orchestrator/daemon/cluster/cluster_service.h"
#include "orchestrator/daemon/cluster/endpoint_sync.h"
#include "orchestrator/daemon/cluster/follower_engine.h"
#include "orchestrator/daemon/cluster/leader_forward.h"
#include "orchestrator/daemon/cluster/node_routes.h"
#include "orchestrator/daemon/cluster/cluster_keys.h"
#include "orchestrator/api/cluster_json.h"
#include "orchestrator/daemon/cluster/peer_server.h"
#include "orchestrator/daemon/cluster/leading_engine.h"
#include "orchestrator/daemon/cluster/node_host.h"
#include "orchestrator/daemon/store/etcd_store.h"
#include "orchestrator/daemon/store/lease_holder.h"
#include "orchestrator/daemon/store/state_store.h"
#include "base/fd.h"

namespace {

using stack::Result;
using stack::UniqueFd;

// The daemon lock: held (flock) for the process's life; the file holds our pid.
Result<UniqueFd> lock_root(const std::string& root) {
  std::string path = root + "/stackd.pid";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return stack::fail_errno("open " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    char buf[32] = {};
    (void)!::pread(fd.get(), buf, sizeof(buf) - 1, 0);
    return stack::fail("another stackd (pid " + std::string(buf[0] ? buf : "?") + ") is running on " + root);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) < 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0)
    return stack::fail_errno("write " + path);
  return fd;
}

// Another daemon (on another root) answering on the socket path.
bool socket_answers(const std::string& path) {
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (!s || path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

// Creates `path` (and its parents, with the default modes) and clears every
// permission bit of `path` itself that `mode` lacks, also when it already
// existed looser. CVE-2021-41091: the data root holds every container's
// merged rootfs and the runtime root their state; were either traversable by
// other users, an unprivileged host user could reach (and run) setuid
// binaries and device nodes inside containers and images.
Result<void> private_dir(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return stack::fail("create " + path + ": " + ec.message(), ec.value());
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return stack::fail_errno("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return stack::fail_errno("stat " + path);
  mode_t want = st.st_mode & 07777 & mode;
  if (want != (st.st_mode & 07777) && ::fchmod(fd.get(), want) != 0)
    return stack::fail_errno("restrict the mode of " + path);
  return {};
}

// How long etcd keeps the owner key of a stackd that stopped answering: a
// successor waits at most this long after a crash.
constexpr int64_t kOwnerTtlSeconds = 10;

std::string join_endpoints(const std::vector<std::string>& endpoints) {
  std::string out;
  for (const auto& e : endpoints) out += (out.empty() ? "" : ",") + e;
  return out;
}

// SQLite in the root unless etcd endpoints are given.
Result<std::unique_ptr<stack::orch::StateStore>> open_store(const std::string& root,
                                                            const stack::orch::EtcdOptions& etcd) {
  if (etcd.endpoints.empty()) return stack::orch::open_sqlite_store(root + "/state.db");
  auto store = stack::orch::open_etcd_store(etcd);
  if (store) spdlog::info("state store: etcd at {} (prefix {})", join_endpoints(etcd.endpoints), etcd.key_prefix);
  return store;
}

// Who holds the store, as a second stackd's error shows it.
std::string owner_text(const std::string& root) {
  char host[256] = {};
  (void)::gethostname(host, sizeof host - 1);
  return "stackd on " + std::string(host) + " (pid " + std::to_string(::getpid()) + ", root " + root + ")";
}

// A holder on this host with this root is a stackd that died without
// releasing: a live one would hold the root's lock (lock_root) that we hold.
bool is_earlier_self(const std::string& holder, const std::string& root) {
  const std::string self = owner_text(root);
  const std::string head = self.substr(0, self.find(" (pid ") + 6);
  const std::string tail = ", root " + root + ")";
  return holder.rfind(head, 0) == 0 && holder.size() > tail.size() &&
         holder.compare(holder.size() - tail.size(), tail.size(), tail) == 0;
}

int fail_line(const std::string& message) {
  std::cerr << "stackd: " << message << "\n";
  return 1;
}

// How long a manager waits at start to take the leader key: a restarted
// leader takes its own key back at once; a follower gives up and serves as
// one.
constexpr auto kLeaderWait = std::chrono::seconds(15);

// The daemon's life; `restart` is set when it should start again (after
// `node init`), which main() does once everything here was torn down.
int serve_daemon(int argc, char** argv, std::atomic<bool>* restart) {
  // A daemon outlives whoever started it: an fd it inherited (a lock file, a
  // caller's directory) would be held for its whole life and handed on.
  stack::close_fds_from(3);
  // glibc gives every thread that allocates its own arena (the supervisor of
  // each stack, connection threads, the exit watcher); their mostly empty
  // pages are what made the daemon's RSS grow with stacks and clients.
  // Two arenas cut RSS at 100 replicas from ~32 MB to ~24 MB here; the
  // daemon's allocations are not contended enough to need more.
  mallopt(M_ARENA_MAX, 2);
  CLI::App app{"stackd: the stack daemon", "stackd"};
  stack::orch::EngineOptions eo;
  stack::orch::ApiServerOptions so;
  std::string log_level = "info";
  bool foreground = false;
  std::string netns_dir;
  app.add_option("--root", eo.root, "state directory (state.db, containers, volumes)")->capture_default_str();
  app.add_option("--socket", so.socket_path, "API socket path")->capture_default_str();
  app.add_option("--group", so.group, "group allowed to use the socket (besides root)");
  std::string authz_policy;
  app.add_option("--authz-policy", authz_policy,
                 "what non-root members of --group may do (default: <root>/authz.json; absent = deny all)");
  app.add_option("--runtime-root", eo.runtime_root, "container runtime state (tmpfs)")->capture_default_str();
  app.add_option("--netns-dir", netns_dir, "network namespace mounts (default: netns/ beside --runtime-root)");
  app.add_option("--image-root", eo.image_root, "image store (default: <root>/images)");
  app.add_option("--dns-port", eo.dns_port, "port of the per-network DNS servers")->capture_default_str();
  app.add_option("--registry-mirror", eo.registry_mirrors, "docker.io=URL (repeatable)");
  app.add_option("--insecure-registry", eo.insecure_registries, "plain HTTP registry HOST (repeatable)");
  int64_t cpu_rt_runtime = 0;
  app.add_option("--cpu-rt-runtime", cpu_rt_runtime,
                 "real-time CPU budget (microseconds per second) of stack's cgroup, which services' cpu_rt_runtime "
                 "share (cgroup v1; as dockerd's flag)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
  stack::orch::EtcdOptions etcd;
  std::string autoscale_interval = "5s";
  app.add_option("--autoscale-interval", autoscale_interval,
                 "how often x-autoscale reads the replicas' use and decides (a duration: 5s, 500ms)")
      ->capture_default_str();
  app.add_option("--etcd-endpoints", etcd.endpoints,
                 "keep the state in etcd (host:port or http(s)://host:port; comma-separated or repeated) "
                 "instead of <root>/state.db")
      ->delimiter(',');
  app.add_option("--etcd-cacert", etcd.ca_file, "CA that signed etcd's certificate (PEM)");
  app.add_option("--etcd-cert", etcd.cert_file, "client certificate for etcd's --client-cert-auth (PEM)");
  app.add_option("--etcd-key", etcd.key_file, "the client certificate's key (PEM)");
  app.add_option("--etcd-prefix", etcd.key_prefix, "where stackd's keys live in etcd")->capture_default_str();
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  app.add_flag("--foreground", foreground, "stay attached to the terminal (default: detach once serving)");
  app.set_version_flag("--version", std::string("stackd version ") + stack::orch::kStackVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail_line(e.what());
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (auto d = stack::compose::parse_duration(autoscale_interval); !d || *d < 100)
    return fail_line("--autoscale-interval " + autoscale_interval + ": expected a duration of at least 100ms (5s, 500ms)");
  else
    eo.autoscale_interval_ms = *d;
  if (eo.image_root.empty()) eo.image_root = eo.root + "/images";
  eo.netns_dir = netns_dir.empty()
                     ? (std::filesystem::path(eo.runtime_root).parent_path() / "netns").string()
                     : netns_dir;
  so.info.root = eo.root;
  so.info.image_root = eo.image_root;
  so.info.registry_mirrors = eo.registry_mirrors;
  so.info.insecure_registries = eo.insecure_registries;

  // 0710 as Docker's /var/lib/docker: only root (and group root) may
  // traverse; the runtime root is root's alone.
  if (auto r = private_dir(eo.root, 0710); !r) return fail_line(r.error().message());
  if (auto r = private_dir(eo.runtime_root, 0700); !r) return fail_line(r.error().message());
  if (cpu_rt_runtime > 0)
    if (auto r = stack::rt::set_cgroup_rt_runtime(stack::orch::kReplicaCgroupParent, cpu_rt_runtime); !r)
      return fail_line("--cpu-rt-runtime: " + r.error().message());

  // Before anything starts: a policy that does not parse stops the daemon
  // (naming the file and line) rather than serving under a guess.
  {
    bool named = !authz_policy.empty();
    auto policy = stack::orch::load_authz_policy(named ? authz_policy : eo.root + "/authz.json", named,
                                                 stack::orch::resolve_host_path);
    if (!policy) return fail_line(policy.error().message());
    if (policy->from_file)
      spdlog::info("authorization policy for non-root callers: {}", policy->source);
    else
      spdlog::info("authorization policy for non-root callers: the default (deny all; no {})", policy->source);
    so.authz = std::make_shared<stack::orch::AuthzPolicy>(std::move(*policy));
  }

  // Without --foreground: detach once the socket serves; the parent waits on
  // a pipe so `stackd && stack ps` works, and exits with the child's verdict.
  int ready_fd = -1;
  if (!foreground) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return fail_line(std::string("pipe: ") + std::strerror(errno));
    pid_t pid = ::fork();
    if (pid < 0) return fail_line(std::string("fork: ") + std::strerror(errno));
    if (pid > 0) {
      ::close(p[1]);
      char c = 0;
      ssize_t n = ::read(p[0], &c, 1);
      return n == 1 && c == 'y' ? 0 : 1;
    }
    ::close(p[0]);
    ready_fd = p[1];
    ::setsid();
  }

  auto lock = lock_root(eo.root);
  if (!lock) return fail_line(lock.error().message());
  if (socket_answers(so.socket_path)) return fail_line("another daemon answers on " + so.socket_path);

  // Signals go to one waiting thread (blocked everywhere else, so every
  // thread the engine starts inherits the mask).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Every forwarded IPv6 connection holds fds in stackd (netplane/port_proxy.h),
  // so the soft fd limit goes up to the hard one, as Go does for docker-proxy.
  // Containers are unaffected: their spec sets RLIMIT_NOFILE itself.
  if (rlimit fds{}; ::getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < fds.rlim_max) {
    fds.rlim_cur = fds.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &fds) != 0) spdlog::warn("raise RLIMIT_NOFILE: {}", std::strerror(errno));
  }

  // Uploads a killed stackd was receiving: nobody owns them any more.
  if (size_t n = stack::orch::sweep_spool(eo.root + "/tmp"))
    spdlog::info("removed {} upload file(s) left by an earlier stackd", n);
  // A cluster node (<root>/cluster/cluster.json) runs on the cluster's etcd;
  // a single node on SQLite, or on the etcd it is given.
  auto cluster_config = stack::cluster::load_cluster_config(eo.root);
  if (!cluster_config) return fail_line(cluster_config.error().message());
  std::unique_ptr<stack::orch::ClusterNode> cluster_node;
  std::unique_ptr<stack::orch::StateStore> single_store;
  if (*cluster_config) {
    if (!etcd.endpoints.empty())
      return fail_line("this node is in cluster " + (*cluster_config)->cluster_id +
                       ": its state is in the cluster's etcd; drop --etcd-endpoints");
    auto booted = stack::orch::boot_cluster_node(eo.root, **cluster_config);
    if (!booted) return fail_line(booted.error().message());
    cluster_node = std::move(*booted);
  } else {
    // The member data of a cluster this node left (`node leave` on a
    // manager removed the member; its etcd may have written again since).
    std::error_code gone;
    std::filesystem::remove_all(stack::cluster::ClusterPaths::under(eo.root).etcd_dir, gone);
    auto opened = open_store(eo.root, etcd);
    if (!opened) return fail_line(opened.error().message());
    single_store = std::move(*opened);
  }
  stack::orch::StateStore& store = cluster_node ? *cluster_node->store : *single_store;
  // On etcd, one engine per prefix: two stackd reconciling the same stacks
  // would fight over every replica. A lease-held owner key says who runs it
  // and goes when this stackd stops or dies.
  std::unique_ptr<stack::orch::LeaseHolder> owner;
  if (!etcd.endpoints.empty()) {
    auto held = stack::orch::LeaseHolder::acquire(
        store, "owner", owner_text(eo.root), kOwnerTtlSeconds,
        [](const stack::Error& e) {
          spdlog::error("etcd: this stackd lost its hold on the store ({}); another stackd may take it", e.message());
        },
        [&](const std::string& holder) { return is_earlier_self(holder, eo.root); });
    if (!held)
      return fail_line("etcd " + etcd.key_prefix + " at " + join_endpoints(etcd.endpoints) + ": " +
                       held.error().message() + " (give each stackd its own --etcd-prefix)");
    owner = std::move(*held);
  }
  // In a cluster every node runs its assignments (node_host.h); only the
  // leader runs the engine, which places replicas on the nodes; another
  // node serves the cluster routes.
  std::unique_ptr<stack::orch::NodeHost> node_host;
  if (cluster_node) {
    auto host = stack::orch::open_node_host(eo, *cluster_node);
    if (!host) return fail_line(host.error().message());
    node_host = std::move(*host);
  }
  stack::Result<std::unique_ptr<stack::orch::Engine>> engine;
  if (cluster_node && cluster_node->config.role == stack::cluster::Role::Manager) {
    auto leading = stack::orch::LeadingEngine::start(eo, *cluster_node, *node_host, kLeaderWait);
    if (leading) engine = std::unique_ptr<stack::orch::Engine>(std::move(*leading));
    else engine = tl::unexpected(leading.error());
  } else if (cluster_node) {
    engine = stack::orch::make_follower_engine("node " + cluster_node->config.node_id + " is a worker: it does not lead cluster " +
                                               cluster_node->config.cluster_id +
                                               ": run stack commands on the leading manager (`stack node ls`)");
  } else {
    engine = stack::orch::Engine::open(eo, store);
  }
  if (!engine) return fail_line("engine: " + engine.error().message());
  if (auto r = (*engine)->restore(); !r) spdlog::error("restore: {}", r.error().message());
  // Stop as on SIGTERM, then main() re-executes stackd, which starts on
  // what <root>/cluster says now (the cluster's etcd, or a single node).
  auto restart_stackd = [restart] {
    *restart = true;
    ::kill(::getpid(), SIGTERM);
  };
  stack::orch::ClusterService cluster_service(
      {eo.root, "/usr/bin/etcd",
       restart_stackd,  // after the reply to `node init`, `join` or `leave`
       [&node_host]() -> stack::Result<void> {
         if (!node_host) return stack::fail("this stackd runs no cluster node");
         return stack::orch::release_node_host(*node_host);
       },
       [&cluster_node] {
         if (cluster_node) cluster_node->agent->resign();
       }},
      store, cluster_node ? std::optional(cluster_node->config) : std::nullopt);
  so.info.cluster = &cluster_service;
  // Every cluster node has an endpoint: a manager admits joining nodes
  // there, and any node answers managers about the replicas it runs.
  std::unique_ptr<stack::orch::PeerServer> peer_server;
  if (cluster_node) {
    const auto& c = cluster_node->config;
    const auto paths = stack::cluster::ClusterPaths::under(eo.root);
    stack::orch::LocalNode* here = node_host->node.get();
    const bool manager = c.role == stack::cluster::Role::Manager;
    auto started = stack::orch::PeerServer::start(
        c.advertise_addr, c.api_port, paths.node_cert, paths.node_key, paths.ca_cert, manager ? so.socket_path : "",
        [&cluster_service, here](const stack::orch::PeerRequest& r) {
          if (stack::orch::ClusterService::is_identity_route(r.target)) return cluster_service.serve_identity(r);
          auto [status, body] = stack::orch::is_node_route(r.target)
                                    ? stack::orch::serve_node_route(*here, r)
                                    : cluster_service.serve_join(r.method, r.target, r.body);
          return stack::orch::PeerReply{status, std::move(body), {}};
        },
        [here](const stack::orch::PeerRequest& r) { return stack::orch::open_node_exec(*here, r); });
    if (!started) {
      (*engine)->shutdown();
      return fail_line(started.error().message());
    }
    peer_server = std::move(*started);
  }
  // Managers come and go: the node follows etcd's members (endpoint_sync.h).
  std::unique_ptr<stack::orch::EndpointSync> endpoint_sync;
  if (cluster_node) endpoint_sync = std::make_unique<stack::orch::EndpointSync>(eo.root, cluster_node->config, restart_stackd);
  // A manager that does not lead relays root's stack requests to the leader.
  std::unique_ptr<stack::orch::LeaderForward> forwarder;
  if (cluster_node && cluster_node->config.role == stack::cluster::Role::Manager) {
    stack::orch::ClusterNode* node = cluster_node.get();
    forwarder = std::make_unique<stack::orch::LeaderForward>(
        stack::orch::PeerCredentials::under(eo.root), [node]() -> std::optional<stack::orch::LeaderEndpoint> {
          if (node->agent->is_leader()) return std::nullopt;
          auto leader = node->store->get(stack::orch::cluster_keys::kLeader);
          if (!leader || !*leader || (*leader)->empty()) return std::nullopt;
          auto record = node->store->get(stack::orch::cluster_keys::node(**leader));
          if (!record || !*record) return std::nullopt;
          auto view = stack::orch::node_from_json(nlohmann::json::parse(**record, nullptr, false));
          if (!view) return std::nullopt;
          return stack::orch::LeaderEndpoint{view->id, view->address, view->api_port};
        });
    so.info.forwarder = forwarder.get();
  }
  auto server = stack::orch::ApiServer::open(so, **engine);
  if (!server) {
    (*engine)->shutdown();
    return fail_line(server.error().message());
  }
  spdlog::info("stackd {} serving on {} (root {})", stack::orch::kStackVersion, so.socket_path, eo.root);
  if (ready_fd >= 0) {
    (void)!::write(ready_fd, "y", 1);
    ::close(ready_fd);
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, 0);
      ::close(null);
    }
  }

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    spdlog::info("stackd: signal {}: stopping (containers keep running)", sig);
    // Requests waiting for a stack to converge would hold serve()'s join of
    // their threads (for a stop grace period, or for ever): release them.
    (*engine)->interrupt_waits();
    (*server)->stop();
  });
  (*server)->serve();
  // serve() also returns on a fatal accept error: wake the waiter then.
  ::kill(::getpid(), SIGTERM);
  waiter.join();
  server->reset();
  (*engine)->shutdown();
  engine->reset();
  spdlog::info("stackd: stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::atomic<bool> restart{false};
  int rc = serve_daemon(argc, argv, &restart);
  if (!restart) return rc;
  // The same stackd again, in the foreground (it already is detached when
  // it was not), keeping its pid; the lock and sockets were closed.
  std::vector<char*> args(argv, argv + argc);
  std::string foreground = "--foreground";
  if (std::find_if(args.begin(), args.end(), [&](char* a) { return foreground == a; }) == args.end())
    args.push_back(foreground.data());
  args.push_back(nullptr);
  spdlog::info("stackd: restarting: its cluster membership changed");
  // A SIGTERM still pending (the shutdown path raises one to wake its
  // waiter) would survive execve and stop the new stackd at once.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  const timespec now{0, 0};
  while (::sigtimedwait(&stop_signals, nullptr, &now) > 0) {
  }
  ::execv("/proc/self/exe", args.data());
  return fail_line(std::string("re-execute stackd: ") + std::strerror(errno));
}
