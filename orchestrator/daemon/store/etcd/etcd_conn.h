// One gRPC channel to etcd and what every etcd call shares: the stubs, the key
// prefix that keeps our keys apart from other users of the same etcd, the
// per-call deadline and the mapping of gRPC failures to our errors. Owned
// (shared) by the store and by each of its watches, so a watch may outlive
// neither but never dangles on the channel.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "etcd_v3.grpc.pb.h"
#include "orchestrator/daemon/store/etcd_store.h"

namespace stack::orch::etcd {

// Runs `attempt` until `again(its result)` is false or a next try would
// start past `deadline`, `pause` apart; returns the last result. The etcd
// client's one retry loop (a request refused unapplied, a reconfiguration
// etcd finds premature, a delete that timed out in an election).
template <class Attempt, class Again>
auto retry_until(std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds pause,
                 Attempt&& attempt, Again&& again) {
  for (;;) {
    auto result = attempt();
    if (!again(result) || std::chrono::steady_clock::now() + pause >= deadline) return result;
    std::this_thread::sleep_for(pause);
  }
}

class Conn {
 public:
  static stack::Result<std::shared_ptr<Conn>> open(const EtcdOptions& options);

  etcdserverpb::KV::Stub& kv() { return *kv_; }
  etcdserverpb::Watch::Stub& watch() { return *watch_; }
  etcdserverpb::Lease::Stub& lease() { return *lease_; }
  etcdserverpb::Cluster::Stub& cluster() { return *cluster_; }
  etcdserverpb::Auth::Stub& auth() { return *auth_; }
  etcdserverpb::Maintenance::Stub& maintenance() { return *maintenance_; }

  // Our key or prefix as etcd's [key, range_end): range_end stays empty for a
  // single key.
  void set_range(const std::string& key, bool prefix, std::string* etcd_key, std::string* range_end) const;
  // etcd's key without our prefix (keys outside it do not reach us: every
  // request is confined to the prefix).
  std::string strip(const std::string& etcd_key) const;
  KeyValue to_kv(const etcdserverpb::KeyValue& kv) const;

  // A context whose deadline is the request timeout from now.
  std::unique_ptr<grpc::ClientContext> context() const;
  std::chrono::milliseconds request_timeout() const { return request_timeout_; }
  // "etcd <what>: <etcd's message>": etcd's own messages ("etcdserver: mvcc:
  // required revision has been compacted") keep their text so that
  // is_store_error() recognises them; transport failures name the endpoints.
  stack::Error error(const std::string& what, const grpc::Status& status) const;

  // One unary call (`stub.*method`) with the request timeout: etcd's reply,
  // or error(what, status). A request etcd refused before applying anything
  // because its raft leadership was moving (dropped_unapplied) is sent
  // again, within the same timeout: each try's deadline is the first's.
  template <class Response, class Stub, class Request, class Method>
  stack::Result<Response> unary(Stub& stub, Method method, const Request& request, const std::string& what) const {
    const auto deadline = std::chrono::steady_clock::now() + request_timeout_;
    const auto wall_deadline = std::chrono::system_clock::now() + request_timeout_;
    Response response;
    auto status = retry_until(
        deadline, kRetryPause,
        [&] {
          grpc::ClientContext ctx;
          ctx.set_deadline(wall_deadline);
          response.Clear();
          return (stub.*method)(&ctx, request, &response);
        },
        [](const grpc::Status& s) { return !s.ok() && dropped_unapplied(s); });
    if (status.ok()) return response;
    return tl::unexpected(error(what, status));
  }

  const std::string& endpoints() const { return endpoints_text_; }

 private:
  static constexpr auto kRetryPause = std::chrono::milliseconds(20);
  static bool dropped_unapplied(const grpc::Status& status);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster_;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
  std::string prefix_;
  std::string endpoints_text_;
  std::chrono::milliseconds request_timeout_{0};
};

}  // namespace stack::orch::etcd
