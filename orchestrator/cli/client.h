// The `stack` CLI's client of stackd's API (docs/api.md): HTTP/1.1 over the
// Unix socket with Boost.Beast, one connection per call. The daemon is
// found at --host / STACK_HOST (unix:///path), else the default socket; when
// nothing answers on the default socket the CLI starts `stackd` itself
// (detached, output to <root>/stackd.log) and waits up to ~5 s for it.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fd.h"

namespace stack::cli {

inline constexpr const char* kDefaultSocket = "/run/stack/stackd.sock";
inline constexpr const char* kDefaultRoot = "/var/lib/stack";

struct ClientOptions {
  std::string host;  // --host: unix:///path ("" = STACK_HOST, else the default socket)
  std::string root = kDefaultRoot;  // where an autostarted stackd keeps state and its log
};

// The socket a ClientOptions names, and whether it is the default one (the
// only one the CLI starts a daemon for).
stack::Result<std::pair<std::string, bool>> resolve_socket(const ClientOptions& options);

// Lets another thread end a stream() that is blocked reading (Ctrl-C, or
// the caller is done with it): cancel() shuts the stream's socket down.
class StreamCancel {
 public:
  void attach(int fd);
  void detach();
  void cancel();
  bool cancelled() const { return cancelled_; }

 private:
  std::mutex mu_;
  int fd_ = -1;
  bool cancelled_ = false;
};

// A connection that switched to the framed stream (exec/run): the socket and
// the bytes that arrived with the 101 reply.
struct Upgraded {
  stack::UniqueFd fd;
  std::string pending;
};

class ApiClient {
 public:
  static stack::Result<ApiClient> connect(const ClientOptions& options);

  // A plain call; the parsed JSON reply on 2xx, else the daemon's one-line
  // error ("no such stack: x").
  stack::Result<nlohmann::json> call(const std::string& method, const std::string& target,
                                  const nlohmann::json& body = nullptr) const;

  // A streamed reply: `on_open` once the daemon accepted the request (e.g. the
  // event subscription is live), then `on_line` per line until the stream
  // ends or on_line returns false.
  stack::Result<void> stream(const std::string& target, const std::function<void()>& on_open,
                          const std::function<bool(const nlohmann::json&)>& on_line,
                          StreamCancel* cancel = nullptr) const;

  // A POST whose reply is streamed (image pull/push progress): `on_line` per
  // line, as stream(); the stream's {"error"} line is the call's error.
  stack::Result<void> post_stream(const std::string& target,
                               const std::function<bool(const nlohmann::json&)>& on_line) const;

  // A POST whose body is everything readable from `fd` (an archive, maybe
  // many GB), sent in chunks as it is read, never held in memory; the reply
  // as call(). A read error on `fd` aborts the upload (the daemon drops the
  // partial body and changes nothing).
  stack::Result<nlohmann::json> upload(const std::string& target, int fd) const;

  stack::Result<Upgraded> upgrade(const std::string& target, const nlohmann::json& body) const;

  const std::string& socket_path() const { return socket_; }

 private:
  explicit ApiClient(std::string socket) : socket_(std::move(socket)) {}
  stack::Result<void> stream_request(const std::string& method, const std::string& target,
                                  const std::function<void()>& on_open,
                                  const std::function<bool(const nlohmann::json&)>& on_line,
                                  StreamCancel* cancel) const;
  std::string socket_;
};

// Percent-encodes a query value.
std::string url_escape(const std::string& s);

}  // namespace stack::cli
