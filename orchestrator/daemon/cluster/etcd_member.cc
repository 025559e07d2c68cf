#include "orchestrator/daemon/cluster/etcd_member.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <vector>

#include "base/io.h"
#include "orchestrator/cluster/cluster_config.h"
#include "orchestrator/daemon/store/etcd_store.h"

namespace stack::orch {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kReadyLimit = std::chrono::seconds(30);
constexpr auto kStopGrace = std::chrono::seconds(10);

std::vector<std::string> etcd_args(const EtcdMemberOptions& o) {
  const std::string client = cluster::https_url(o.advertise_addr, o.client_port);
  const std::string loopback = cluster::https_url("127.0.0.1", o.client_port);
  const std::string peer = cluster::https_url(o.advertise_addr, o.peer_port);
  std::string listen_client = client;
  if (o.advertise_addr != "127.0.0.1") listen_client += "," + loopback;
  return {o.binary,
          "--name=" + o.name,
          "--data-dir=" + o.dir + "/data",
          "--listen-client-urls=" + listen_client,
          "--advertise-client-urls=" + client,
          "--listen-peer-urls=" + peer,
          "--initial-advertise-peer-urls=" + peer,
          "--initial-cluster=" + o.initial_cluster,
          "--initial-cluster-state=" + o.initial_state,
          "--cert-file=" + o.cert_file,
          "--key-file=" + o.key_file,
          "--trusted-ca-file=" + o.ca_file,
          "--client-cert-auth",
          "--peer-cert-file=" + o.cert_file,
          "--peer-key-file=" + o.key_file,
          "--peer-trusted-ca-file=" + o.ca_file,
          "--peer-client-cert-auth",
          // Half etcd's default election timeout (1000 ms): a member that
          // died while it led raft is replaced in 0.5-1 s, and the new raft
          // leader renews every lease by its TTL plus this timeout, so a
          // dead node's heartbeat outlives it by that much less. Managers
          // share a LAN (etcd's rule: 10x the peer round trip).
          "--heartbeat-interval=100",
          "--election-timeout=500",
          "--log-outputs=stderr"};
}

}  // namespace

stack::Result<std::unique_ptr<EtcdMember>> EtcdMember::start(EtcdMemberOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return stack::fail("create " + options.dir + ": " + ec.message(), ec.value());
  ::chmod(options.dir.c_str(), 0700);  // etcd's data: the cluster's whole state, secrets included
  if (::access(options.binary.c_str(), X_OK) != 0)
    return stack::fail_errno("etcd member: " + options.binary + " (apt-get install etcd-server)");
  std::unique_ptr<EtcdMember> m(new EtcdMember(std::move(options)));
  m->thread_ = std::thread([p = m.get()] { p->supervise(); });
  {
    std::unique_lock lock(m->mu_);
    m->cv_.wait(lock, [&] { return m->spawned_; });
    if (m->pid_ <= 0) return stack::fail("etcd member: fork failed");
  }
  // The first read waits for the member's election.
  EtcdOptions client = m->local_client(std::chrono::duration_cast<std::chrono::milliseconds>(kReadyLimit));
  // Until it serves, or it died (a port taken, a bad flag): then at once,
  // with its own words, rather than after the whole limit.
  auto deadline = Clock::now() + kReadyLimit;
  for (;;) {
    auto store = open_etcd_store(client);
    if (store) break;
    bool died;
    {
      std::lock_guard lock(m->mu_);
      died = m->exits_ > 0;
    }
    if (died || Clock::now() >= deadline) {
      auto tail = m->log_tail();
      m.reset();  // stops it
      return stack::fail("etcd member did not serve" + std::string(died ? " (it exited)" : "") + ": " +
                         store.error().message() + "\n" + tail);
    }
  }
  spdlog::info("etcd member {} serving on {} (pid {})", m->options_.name, m->local_endpoint(), m->pid());
  return m;
}

EtcdMember::~EtcdMember() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

pid_t EtcdMember::pid() const {
  std::lock_guard lock(mu_);
  return pid_;
}

std::string EtcdMember::local_endpoint() const { return cluster::https_url("127.0.0.1", options_.client_port); }

EtcdOptions EtcdMember::local_client(std::chrono::milliseconds request_timeout) const {
  EtcdOptions client;
  client.endpoints = {local_endpoint()};
  client.ca_file = options_.ca_file;
  client.cert_file = options_.cert_file;
  client.key_file = options_.key_file;
  client.dial_timeout = std::chrono::seconds(1);
  client.request_timeout = request_timeout;
  return client;
}

std::string EtcdMember::log_tail() const {
  auto log = io::read_file(options_.dir + "/etcd.log");
  if (!log) return "";
  return log->size() > 2000 ? log->substr(log->size() - 2000) : *log;
}

// Forks from this thread, which lives as long as the member: PDEATHSIG is
// tied to the thread that forked, so etcd dies with the supervisor.
pid_t EtcdMember::spawn() {
  auto args = etcd_args(options_);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = options_.dir + "/etcd.log";
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Async-signal-safe only: everything was built before the fork.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::setpgid(0, 0);  // a terminal's ^C goes to stackd, which stops etcd itself
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

void EtcdMember::supervise() {
  auto backoff = std::chrono::seconds(1);
  for (;;) {
    pid_t pid = spawn();
    auto started = Clock::now();
    {
      std::lock_guard lock(mu_);
      pid_ = pid;
      spawned_ = true;
    }
    cv_.notify_all();
    if (pid <= 0) return;
    // Wait for it to exit or for the stop; both via polling waitpid, as the
    // child's exit is not a condition we can wait on together with the stop.
    int status = 0;
    bool exited = false;
    std::unique_lock lock(mu_);
    while (!stopping_ && !exited) {
      cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; });
      exited = ::waitpid(pid, &status, WNOHANG) == pid;
    }
    if (stopping_) {
      lock.unlock();
      if (!exited) {
        ::kill(pid, SIGTERM);
        auto deadline = Clock::now() + kStopGrace;
        while (::waitpid(pid, &status, WNOHANG) != pid) {
          if (Clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
      std::lock_guard relock(mu_);
      pid_ = -1;
      return;
    }
    pid_ = -1;
    exits_++;
    spdlog::error("etcd member {} exited ({}); restarting in {} s", options_.name,
                  WIFEXITED(status) ? "status " + std::to_string(WEXITSTATUS(status))
                                    : "signal " + std::to_string(WTERMSIG(status)),
                  backoff.count());
    if (cv_.wait_for(lock, backoff, [this] { return stopping_; })) return;
    // A member that ran a while before dying starts the backoff again.
    backoff = Clock::now() - started > std::chrono::minutes(1) ? std::chrono::seconds(1)
                                                               : std::min(backoff * 2, std::chrono::seconds(30));
  }
}

}  // namespace stack::orch
