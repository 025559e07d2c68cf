#include "orchestrator/daemon/store/etcd/etcd_conn.h"

#include <arpa/inet.h>
#include <grpc/support/log.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "base/io.h"
#include "orchestrator/daemon/store/store_txn.h"

namespace stack::orch::etcd {
namespace {

struct Endpoint {
  std::string address;  // host:port
  bool tls = false;
};

stack::Result<Endpoint> parse_endpoint(const std::string& text) {
  Endpoint e;
  std::string rest = text;
  if (rest.rfind("https://", 0) == 0) {
    e.tls = true;
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto colon = rest.rfind(':');
  if (rest.empty() || colon == std::string::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.find_first_not_of("0123456789", colon + 1) != std::string::npos)
    return stack::fail("etcd endpoint \"" + text + "\": expected host:port");
  e.address = rest;
  return e;
}

bool numeric_ipv4(const std::string& address) {
  in_addr a{};
  return inet_pton(AF_INET, address.substr(0, address.rfind(':')).c_str(), &a) == 1;
}

// gRPC's target: one endpoint as is; several as "ipv4:a:p,b:p", which gRPC's
// pick_first tries in order and fails over between.
stack::Result<std::string> target_of(const std::vector<Endpoint>& endpoints) {
  if (endpoints.size() == 1) return endpoints.front().address;
  std::string target = "ipv4:";
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (!numeric_ipv4(endpoints[i].address))
      return stack::fail("etcd endpoint \"" + endpoints[i].address +
                         "\": several endpoints must be numeric IPv4 addresses");
    target += (i ? "," : "") + endpoints[i].address;
  }
  return target;
}

stack::Result<std::string> read_pem(const std::string& path, const char* what) {
  auto text = io::read_file(path);
  if (!text) return tl::unexpected(text.error().wrap(std::string("etcd ") + what));
  return *text;
}

// gRPC logs to stderr by itself (a refused TLS handshake is three lines per
// retry); its lines go to stackd's log at debug level instead, as our own
// error already says what failed.
void route_grpc_log(gpr_log_func_args* args) {
  spdlog::debug("grpc {}:{}: {}", args->file, args->line, args->message);
}

}  // namespace

stack::Result<std::shared_ptr<Conn>> Conn::open(const EtcdOptions& options) {
  static std::once_flag grpc_log_once;
  std::call_once(grpc_log_once, [] { gpr_set_log_function(route_grpc_log); });
  if (options.endpoints.empty()) return stack::fail("etcd: no endpoint given");
  std::vector<Endpoint> endpoints;
  bool tls = !options.ca_file.empty();
  auto conn = std::make_shared<Conn>();
  for (const auto& text : options.endpoints) {
    auto e = parse_endpoint(text);
    if (!e) return tl::unexpected(e.error());
    tls = tls || e->tls;
    conn->endpoints_text_ += (endpoints.empty() ? "" : ",") + e->address;
    endpoints.push_back(*e);
  }
  auto target = target_of(endpoints);
  if (!target) return tl::unexpected(target.error());
  if (options.cert_file.empty() != options.key_file.empty())
    return stack::fail("etcd: a client certificate needs its key, and the key its certificate");

  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty()) {
      auto ca = read_pem(options.ca_file, "CA");
      if (!ca) return tl::unexpected(ca.error());
      ssl.pem_root_certs = *ca;
    }
    if (!options.cert_file.empty()) {
      auto cert = read_pem(options.cert_file, "client certificate");
      auto key = read_pem(options.key_file, "client key");
      if (!cert) return tl::unexpected(cert.error());
      if (!key) return tl::unexpected(key.error());
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  // etcd's own client settings: a dead member is noticed by keepalive pings
  // within seconds, not after TCP's minutes.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 3000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 64 << 20);
  // A node cut off from etcd reconnects within seconds of the network
  // coming back (gRPC's default backoff grows to 120 s), and reconciles.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 3000);
  if (tls && !options.tls_server_name.empty()) args.SetSslTargetNameOverride(options.tls_server_name);
  conn->channel_ = grpc::CreateCustomChannel(*target, creds, args);
  conn->kv_ = etcdserverpb::KV::NewStub(conn->channel_);
  conn->watch_ = etcdserverpb::Watch::NewStub(conn->channel_);
  conn->lease_ = etcdserverpb::Lease::NewStub(conn->channel_);
  conn->cluster_ = etcdserverpb::Cluster::NewStub(conn->channel_);
  conn->auth_ = etcdserverpb::Auth::NewStub(conn->channel_);
  conn->maintenance_ = etcdserverpb::Maintenance::NewStub(conn->channel_);
  conn->prefix_ = options.key_prefix;
  conn->request_timeout_ = options.request_timeout;
  if (!conn->channel_->WaitForConnected(std::chrono::system_clock::now() + options.dial_timeout))
    return stack::fail("etcd at " + conn->endpoints_text_ + ": not reachable within " +
                       std::to_string(options.dial_timeout.count()) + " ms" +
                       (tls ? " (TLS: check the CA and the client certificate)" : ""));
  return conn;
}

void Conn::set_range(const std::string& key, bool prefix, std::string* etcd_key, std::string* range_end) const {
  *etcd_key = prefix_ + key;
  range_end->clear();
  if (!prefix) return;
  if (etcd_key->empty()) {
    // Every key of etcd's: key and range_end both "\0".
    *etcd_key = std::string(1, '\0');
    *range_end = std::string(1, '\0');
    return;
  }
  auto end = mvcc::prefix_end(*etcd_key);
  *range_end = end ? *end : std::string(1, '\0');  // only 0xff bytes: everything from key on
}

std::string Conn::strip(const std::string& etcd_key) const {
  return etcd_key.compare(0, prefix_.size(), prefix_) == 0 ? etcd_key.substr(prefix_.size()) : etcd_key;
}

KeyValue Conn::to_kv(const etcdserverpb::KeyValue& kv) const {
  return KeyValue{strip(kv.key()), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version(), kv.lease()};
}

std::unique_ptr<grpc::ClientContext> Conn::context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + request_timeout_);
  return ctx;
}

// Two failures that leave nothing applied, so a request sent again cannot
// apply twice:
//  - raft's ErrProposalDropped, passed on with its own text: the proposal
//    never entered the log (raft refuses them while leadership moves);
//  - "etcdserver: leader changed": the linearizable read that reads, and
//    auth changes, wait for before anything is proposed ended with the
//    leader's term. Writes are proposed without it.
bool Conn::dropped_unapplied(const grpc::Status& status) {
  const std::string& m = status.error_message();
  return m.find("raft proposal dropped") != std::string::npos ||
         m.find("etcdserver: leader changed") != std::string::npos;
}

stack::Error Conn::error(const std::string& what, const grpc::Status& status) const {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return stack::Error{0, "etcd " + what + " at " + endpoints_text_ + ": " + status.error_message()};
    default:
      return stack::Error{0, "etcd " + what + ": " + status.error_message()};
  }
}

}  // namespace stack::orch::etcd
