// The API's routes (docs/api.md), independent of the transport: a parsed
// request in, calls on the Engine, and the answer given to an ApiResponder
// (the connection in api_server.cc; a recorder in the unit tests). Every
// request is validated before the engine sees it: bad JSON, an unknown field
// or a wrong type is a 400 naming the field, so a bad request changes nothing.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "orchestrator/daemon/engine/engine.h"

namespace stack::orch {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  std::multimap<std::string, std::string> query;  // decoded
  std::string body;
  // An upload's body (image load/import, image_routes.h is_upload_route):
  // the transport streamed it into this file, which it removes after the
  // request; `body` is then empty.
  std::string body_file;
  bool upgrade = false;  // Connection: Upgrade + Upgrade: stack-stream

  // The first value of a query key, "" when absent.
  std::string query_value(const std::string& key) const;
  // The first query key a route does not know ("" when all are known): a
  // misspelled option is a 400, not silently ignored.
  std::string unknown_query_key(const std::vector<std::string>& allowed) const;
};

// Splits "/v1/x?a=1&b=%20" into path and decoded query.
void parse_target(const std::string& target, std::string& path, std::multimap<std::string, std::string>& query);

class ApiResponder {
 public:
  virtual ~ApiResponder() = default;
  // A whole reply with a JSON body.
  virtual void reply(int status, const std::string& json_body) = 0;
  // A streamed 200 reply: start it, then one JSON document per line.
  // write_line() returns false once the client is gone.
  virtual void start_stream() = 0;
  virtual bool write_line(const std::string& json_line) = 0;
  // Set when the client hangs up or the server stops, while streaming.
  virtual const std::atomic<bool>& cancelled() = 0;
  // exec/run: send 101 Switching Protocols and relay the session's stdio as
  // frames until the process exits.
  virtual void relay(ExecSession& session) = 0;
};

class ClusterService;  // daemon/cluster/cluster_service.h

// A cluster manager that does not lead relays some requests to the leader
// (daemon/cluster/leader_forward.h); the API server asks before it reads a
// request's body.
class LeaderForwarder {
 public:
  virtual ~LeaderForwarder() = default;
  // Whether a request for `path` goes to the leader now.
  virtual bool wants(const std::string& path) = 0;
  // Relays the client's connection (`bytes`: what was read of it so far) to
  // the leader until either side ends. An error means nothing reached the
  // leader: the caller can still answer.
  virtual stack::Result<void> forward(int client_fd, const std::string& bytes, const std::atomic<bool>& cancel) = 0;
};

struct ServerInfo {
  std::string root;  // stackd --root, reported by /v1/version; uploads are spooled in <root>/tmp
  // The image routes' store and registries (stackd --image-root,
  // --registry-mirror, --insecure-registry).
  std::string image_root;
  std::vector<std::string> registry_mirrors;
  std::vector<std::string> insecure_registries;
  // The cluster routes' service (cluster_routes.h); owned by main().
  ClusterService* cluster = nullptr;
  // Set on a cluster manager (owned by main()).
  LeaderForwarder* forwarder = nullptr;
};

// Maps an engine error to a status by its errno: ENOENT 404, EINVAL 400,
// EEXIST/EBUSY/EADDRINUSE 409, ENOTCONN (not in a cluster) 503, else 500.
int status_for(const stack::Error& e);
// What the client is told: for an errno that only classifies (the 4xx ones
// and ENOTCONN's 503) the context alone ("no such stack: x"); otherwise
// with strerror.
std::string error_text(const stack::Error& e);

void handle_request(Engine& engine, const ServerInfo& info, const ApiRequest& request, ApiResponder& out);

}  // namespace stack::orch
