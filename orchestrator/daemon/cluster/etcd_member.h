// A manager's etcd member: Debian's etcd binary, started and supervised by
// stackd (restarted with backoff if it dies), with mutual TLS on both the
// client and the peer port from the cluster's PKI. It dies with stackd
// (PR_SET_PDEATHSIG from the thread that supervises it): a stackd restart is
// a short absence of this member, which the others' quorum rides out, while
// the node's containers keep running.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/error.h"
#include "orchestrator/daemon/store/etcd_store.h"

namespace stack::orch {

struct EtcdMemberOptions {
  std::string binary = "/usr/bin/etcd";
  std::string name;            // the node id
  std::string dir;             // data/ and etcd.log go here
  std::string advertise_addr;  // peers and clients reach it here
  int client_port = 2379;
  int peer_port = 2380;
  std::string initial_cluster;  // name=https://addr:peer,...
  std::string initial_state = "new";
  std::string ca_file, cert_file, key_file;
};

class EtcdMember {
 public:
  // Spawns etcd and waits (up to 30 s) until it serves a TLS client with our
  // certificate on 127.0.0.1; on failure nothing is left running, and the
  // error carries the end of etcd's log.
  static stack::Result<std::unique_ptr<EtcdMember>> start(EtcdMemberOptions options);
  ~EtcdMember();  // SIGTERM, up to 10 s, then SIGKILL; no restart
  EtcdMember(const EtcdMember&) = delete;
  EtcdMember& operator=(const EtcdMember&) = delete;

  pid_t pid() const;
  std::string log_tail() const;
  // The endpoint stackd uses: this member, on loopback.
  std::string local_endpoint() const;
  // A client of this member alone (its endpoint, our certificate).
  EtcdOptions local_client(std::chrono::milliseconds request_timeout) const;
  const std::string& name() const { return options_.name; }

 private:
  explicit EtcdMember(EtcdMemberOptions options) : options_(std::move(options)) {}
  void supervise();
  pid_t spawn();

  EtcdMemberOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  pid_t pid_ = -1;
  bool spawned_ = false;  // the first spawn was attempted
  bool stopping_ = false;
  int exits_ = 0;  // times it died by itself
  std::thread thread_;
};

}  // namespace stack::orch
