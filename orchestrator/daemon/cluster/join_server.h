// A manager's join endpoint: HTTPS on <advertise-addr>:<api-port> (2377 by
// default, as Swarm's), serving its node certificate, one request per
// connection, each on a thread of its own with 10 s socket timeouts and a
// 64 KiB body limit. The routes are the handler's (join_wire.h); the server
// knows TLS and HTTP only.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/error.h"

namespace stack::orch {

class JoinServer {
 public:
  // (method, target, body) -> (status, JSON body)
  using Handler = std::function<std::pair<int, std::string>(const std::string&, const std::string&, const std::string&)>;

  static stack::Result<std::unique_ptr<JoinServer>> start(const std::string& addr, int port,
                                                          const std::string& cert_file, const std::string& key_file,
                                                          Handler handler);
  ~JoinServer();  // stops accepting, ends open connections, joins
  JoinServer(const JoinServer&) = delete;
  JoinServer& operator=(const JoinServer&) = delete;

 private:
  struct Impl;
  explicit JoinServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stack::orch
