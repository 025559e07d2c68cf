// A canned-response HTTP/1.1 server on 127.0.0.1:<free port>, for tests that
// need a registry misbehaving in ways a real one never does (a manifest whose
// mediaType disagrees with its Content-Type, a blob whose bytes do not match
// its digest). Each request path (query stripped) maps to one fixed response;
// anything else is a 404. One request per connection, served on one thread.
// Bytes that are not an HTTP request (the registry client's TLS ClientHello:
// it tries https first) get the connection closed, so the client falls back
// to plain HTTP as it does for any loopback registry.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/fd.h"

namespace stack::test {

class HttpStub {
 public:
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };

  HttpStub();   // port() is 0 when it could not listen
  ~HttpStub();  // stops and joins the serving thread
  HttpStub(const HttpStub&) = delete;
  HttpStub& operator=(const HttpStub&) = delete;

  // Replaces the response for `path` ("/v2/app/manifests/1"); safe while serving.
  void set(const std::string& path, Response response);
  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  // "GET /v2/app/blobs/sha256:..." for every HTTP request answered, in order.
  std::vector<std::string> requests() const;

 private:
  void serve();
  void answer(int conn);

  stack::UniqueFd listen_;
  stack::UniqueFd stop_r_, stop_w_;  // a pipe: writing wakes serve() to return
  int port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, Response> routes_;
  std::vector<std::string> seen_;
  std::thread thread_;
};

}  // namespace stack::test
