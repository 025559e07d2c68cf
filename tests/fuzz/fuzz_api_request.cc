// stackd's API as a client reaches it: raw bytes on the Unix socket. They go
// through the same Beast request parser as api_server.cc (same body limit),
// the target is split by parse_target(), and handle_request() routes and
// validates the request against a fake Engine that records nothing and
// answers with fixed data. Pipelined requests are handled in turn, as a
// keep-alive connection does; after an exec/run upgrade the rest of the input
// is the client's frame stream, fed to the FrameDecoder in uneven chunks.
#include <atomic>
#include <cstdio>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "orchestrator/api/framing.h"
#include "orchestrator/daemon/server/http_routes.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace stack;
using namespace stack::orch;
namespace http = boost::beast::http;

class NullSession : public ExecSession {
 public:
  int stdin_fd() override { return -1; }
  int stdout_fd() override { return -1; }
  int stderr_fd() override { return -1; }
  void resize(unsigned, unsigned) override {}
  stack::Result<int> wait() override { return 0; }
  void close_stdin() override {}
};

// Answers every call from fixed data: the routes' validation and JSON
// shaping is what is fuzzed, not an engine.
class FixedEngine : public Engine {
 public:
  stack::Result<void> restore() override { return {}; }
  stack::Result<std::vector<ReplicaView>> up(const compose::Project&, const UpOptions&) override { return replicas(); }
  stack::Result<void> down(const std::string& s, bool) override { return known(s); }
  stack::Result<void> stop(const std::string& s, const std::vector<std::string>&) override { return known(s); }
  stack::Result<void> start(const std::string& s, const std::vector<std::string>&) override { return known(s); }
  stack::Result<void> restart(const std::string& s, const std::vector<std::string>&) override { return known(s); }
  stack::Result<void> scale(const std::string& s, const std::map<std::string, int>&) override { return known(s); }
  std::vector<StackView> stacks() override { return {StackView{"shop", "up", 2, 3, 3, {"/x/shop.yaml"}}}; }
  stack::Result<compose::Project> project(const std::string& s) override {
    STACK_TRY(known(s));
    compose::Project p;
    p.name = s;
    return p;
  }
  stack::Result<std::vector<ReplicaView>> ps(const std::string&) override { return replicas(); }
  stack::Result<void> logs(const std::string&, const LogOptions&, const std::function<bool(const LogLine&)>& sink,
                        const std::atomic<bool>&) override {
    sink(LogLine{"web", "shop-web-1", "stdout", 1000, "line \x01 \xff"});
    return {};
  }
  stack::Result<std::unique_ptr<ExecSession>> exec(const ExecRequest&) override {
    return std::unique_ptr<ExecSession>(new NullSession());
  }
  stack::Result<std::unique_ptr<ExecSession>> run(const ExecRequest&, bool) override {
    return std::unique_ptr<ExecSession>(new NullSession());
  }
  stack::Result<std::string> top(const std::string& s) override {
    STACK_TRY(known(s));
    return std::string("{}");
  }
  stack::Result<std::string> stats(const std::string&) override { return stack::fail("stats: broken cgroup", EIO); }
  Subscription subscribe(uint64_t, std::function<void(const Event&)> sink) override {
    sink(Event{1, 1, "shop", "web", "shop-web-1", "start", {{"image", "busybox"}}});
    return std::make_shared<int>(0);
  }
  void shutdown() override {}

 private:
  static stack::Result<void> known(const std::string& s) {
    if (s == "shop" || s == "_all") return {};
    return stack::fail("no such stack: " + s, ENOENT);
  }
  static std::vector<ReplicaView> replicas() {
    ReplicaView r;
    r.stack = "shop";
    r.service = "web";
    r.name = "shop-web-1";
    r.state = "running";
    r.ports.push_back(PortView{"", 8080, 80, "tcp"});
    return {r};
  }
};

// Stands in for the connection. Streams end after a few lines, and the
// events loop is cancelled on its second check so no input waits 200 ms.
struct Recorder : ApiResponder {
  int status = 0;
  bool relayed = false;
  int checks = 0;
  size_t lines = 0;
  std::atomic<bool> cancel{false};
  void reply(int s, const std::string& body) override {
    if (s < 100 || s > 599 || body.empty()) std::abort();  // a reply the transport cannot send
    status = s;
  }
  void start_stream() override { status = 200; }
  bool write_line(const std::string&) override { return ++lines < 8; }
  const std::atomic<bool>& cancelled() override {
    if (++checks > 1) cancel = true;
    return cancel;
  }
  void relay(ExecSession&) override { relayed = true; }
};

void decode_frames(const uint8_t* data, size_t size) {
  FrameDecoder dec;
  size_t pos = 0, step = 1;
  while (pos < size) {
    size_t n = std::min(step, size - pos);
    dec.feed(reinterpret_cast<const char*>(data + pos), n);
    pos += n;
    step = step * 3 + 1;  // 1, 4, 13, ...: headers split across feeds
    while (auto f = dec.next()) {
      if (f->payload.size() > kMaxFramePayload) std::abort();
      std::string again = encode_frame(f->type, f->payload);
      if (again.size() != kFrameHeader + f->payload.size()) std::abort();
    }
    if (!dec.error().empty()) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FixedEngine engine;
  static const ServerInfo info{"/var/lib/stack"};
  size_t pos = 0;
  for (int requests = 0; requests < 4 && pos < size; ++requests) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done() && pos < size) {
      size_t used = parser.put(boost::asio::buffer(data + pos, size - pos), ec);
      pos += used;
      if (ec || used == 0) break;
    }
    if (!parser.is_done()) return 0;  // incomplete or not HTTP: the server closes
    auto& msg = parser.get();
    ApiRequest req;
    req.method = std::string(msg.method_string());
    parse_target(std::string(msg.target()), req.path, req.query);
    req.body = msg.body();
    std::string conn(msg[http::field::connection]);
    for (auto& c : conn) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.upgrade = conn.find("upgrade") != std::string::npos && msg[http::field::upgrade] == "stack-stream";
    Recorder out;
    handle_request(engine, info, req, out);
    if (out.relayed) {
      decode_frames(data + pos, size - pos);
      return 0;
    }
    if (out.status == 0) std::abort();  // every request gets an answer
    if (!msg.keep_alive()) return 0;
  }
  return 0;
}
