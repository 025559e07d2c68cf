#include "orchestrator/daemon/cluster/remote_exec.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "base/io.h"
#include "orchestrator/api/api_json.h"
#include "orchestrator/daemon/cluster/node_routes.h"
#include "orchestrator/daemon/cluster/peer_client.h"
#include "orchestrator/daemon/cluster/peer_stream.h"

namespace stack::orch {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

class RemoteExecSession final : public RelayedSession {
 public:
  RemoteExecSession(std::unique_ptr<PeerStream> peer, std::string early, std::string node)
      : peer_(std::move(peer)), early_(std::move(early)), node_(std::move(node)) {}
  ~RemoteExecSession() override { peer_->shutdown(); }

  // Its stdio are on the other node.
  stack::Result<int> wait() override {
    return stack::fail("the exec runs on node " + node_ + ": its exit code goes to the client", ENOTSUP);
  }

  bool relay_client(int client_fd, const std::string& pending, const std::atomic<bool>& stop) override {
    // First what each side sent before the relay began: the node's frames
    // that arrived with its answer, the client's that came with its request.
    if (!early_.empty() && !io::write_all(client_fd, early_, "exec client")) return true;
    boost::system::error_code ec;
    if (!pending.empty()) asio::write(peer_->tls(), asio::buffer(pending), ec);
    if (!ec) relay_tls(peer_->tls(), client_fd, &stop);
    return true;
  }

 private:
  std::unique_ptr<PeerStream> peer_;
  std::string early_;
  std::string node_;
};

}  // namespace

stack::Result<std::unique_ptr<ExecSession>> open_remote_exec(const PeerCredentials& credentials,
                                                             const std::string& node, const std::string& address,
                                                             int port, const std::string& id,
                                                             const ExecRequest& request) {
  const std::string where = "exec " + id + " on node " + node;
  auto peer = PeerStream::connect(credentials, address, port);
  if (!peer) return tl::unexpected(peer.error().wrap(where));
  try {
    http::request<http::string_body> req{http::verb::post, node_exec_target(id), 11};
    req.set(http::field::host, address);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::upgrade, "stack-stream");
    req.body() = to_json(request).dump();
    req.prepare_payload();
    http::write((*peer)->tls(), req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> res;
    http::read_header((*peer)->tls(), buffer, res);
    if (res.get().result() != http::status::switching_protocols) {
      http::read((*peer)->tls(), buffer, res);
      auto answer = nlohmann::json::parse(res.get().body(), nullptr, false);
      std::string why = answer.is_object() ? answer.value("error", "") : "";
      const int status = res.get().result_int();
      return stack::fail(where + ": " + (why.empty() ? "HTTP " + std::to_string(status) : why),
                         peer_errno(status));
    }
    std::string early(static_cast<const char*>(buffer.data().data()), buffer.size());
    return std::unique_ptr<ExecSession>(new RemoteExecSession(std::move(*peer), std::move(early), node));
  } catch (const boost::system::system_error& e) {
    return stack::fail(where + ": " + e.code().message(), EHOSTUNREACH);
  }
}

}  // namespace stack::orch
