// stackd's HTTP server (daemon/api_server.cc) over a real Unix socket with
// the fake engine: plain replies, chunked streams, the exec upgrade relaying
// a real process, SO_PEERCRED refusal of other users, and stop() ending open
// streams.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "orchestrator/daemon/server/api_server.h"
#include "orchestrator/api/framing.h"
#include "tests/support/bundle.h"
#include "tests/unit/fake_engine.h"

namespace stack::orch {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;
using nlohmann::json;

struct ServerFixture {
  test::TempDir dir{"apisrv"};
  FakeEngine engine;
  std::unique_ptr<ApiServer> server;
  std::thread serving;
  std::string path;

  ServerFixture() {
    path = dir.path() + "/stackd.sock";
    ApiServerOptions o;
    o.socket_path = path;
    o.info.root = dir.path();
    auto s = ApiServer::open(o, engine);
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    if (!s) return;
    server = std::move(*s);
    serving = std::thread([this] { server->serve(); });
  }
  ~ServerFixture() {
    if (server) server->stop();
    if (serving.joinable()) serving.join();
  }
};

struct Client {
  asio::io_context io;
  local::socket sock{io};
  beast::flat_buffer buf;
  explicit Client(const std::string& path) { sock.connect(local::endpoint(path)); }

  http::response<http::string_body> request(http::verb m, const std::string& target, const std::string& body = "",
                                            bool upgrade = false) {
    http::request<http::string_body> req{m, target, 11};
    req.set(http::field::host, "x");
    if (upgrade) {
      req.set(http::field::connection, "Upgrade");
      req.set(http::field::upgrade, "stack-stream");
    }
    req.body() = body;
    req.prepare_payload();
    http::write(sock, req);
    http::response<http::string_body> res;
    http::read(sock, buf, res);
    return res;
  }
};

TEST(ApiServer, AnswersOverTheSocketWithMode0660) {
  ServerFixture f;
  ASSERT_TRUE(f.server);
  struct stat st{};
  ASSERT_EQ(::stat(f.path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  Client c(f.path);
  auto res = c.request(http::verb::get, "/v1/version");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(json::parse(res.body())["root"], f.dir.path());
  // Keep-alive: a second request on the same connection.
  auto bad = c.request(http::verb::post, "/v1/stacks/shop/scale", R"({"replicas":{"web":-2}})");
  EXPECT_EQ(bad.result_int(), 400u);
  EXPECT_NE(json::parse(bad.body())["error"].get<std::string>().find("replicas.web"), std::string::npos);
}

TEST(ApiServer, StreamsLogsAsChunkedJsonLines) {
  ServerFixture f;
  ASSERT_TRUE(f.server);
  Client c(f.path);
  auto res = c.request(http::verb::get, "/v1/stacks/shop/logs?tail=2");
  ASSERT_EQ(res.result_int(), 200u);
  EXPECT_TRUE(res.chunked());
  EXPECT_EQ(res.body(), R"({"replica":"shop-web-1","service":"web","stream":"stdout","text":"line 1","time_ns":1000})"
                        "\n"
                        R"({"replica":"shop-web-1","service":"web","stream":"stdout","text":"line 2","time_ns":2000})"
                        "\n");
  Client c2(f.path);
  EXPECT_EQ(c2.request(http::verb::get, "/v1/stacks/nope/logs").result_int(), 404u);
}

TEST(ApiServer, ExecUpgradesAndRelaysARealProcess) {
  ServerFixture f;
  ASSERT_TRUE(f.server);
  Client c(f.path);
  http::request<http::string_body> req{http::verb::post, "/v1/stacks/shop/exec", 11};
  req.set(http::field::host, "x");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "stack-stream");
  req.body() = R"({"service":"web","cmd":["cat"],"interactive":true})";
  req.prepare_payload();
  http::write(c.sock, req);
  http::response_parser<http::empty_body> p;
  http::read_header(c.sock, c.buf, p);
  ASSERT_EQ(p.get().result_int(), 101u);
  std::string out = encode_frame(FrameType::Resize, "40 120") + encode_frame(FrameType::Stdin, "hello\n") +
                    encode_frame(FrameType::Stdin, "");
  asio::write(c.sock, asio::buffer(out));
  FrameDecoder d;
  auto pending = beast::buffers_to_string(c.buf.data());
  d.feed(pending.data(), pending.size());
  std::string got, code;
  char buf[4096];
  while (code.empty()) {
    while (auto fr = d.next()) {
      if (fr->type == FrameType::Stdout) got += fr->payload;
      if (fr->type == FrameType::Exit) code = fr->payload;
      ASSERT_NE(fr->type, FrameType::Error) << fr->payload;
    }
    if (!code.empty()) break;
    beast::error_code ec;
    size_t n = c.sock.read_some(asio::buffer(buf), ec);
    ASSERT_FALSE(ec) << ec.message();
    d.feed(buf, n);
  }
  EXPECT_EQ(got, "hello\n");
  EXPECT_EQ(code, "0");
  EXPECT_EQ(f.engine.calls, (std::vector<std::string>{"exec shop web cat"}));
}

TEST(ApiServer, RefusesUsersOutsideTheGroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  ServerFixture f;
  ASSERT_TRUE(f.server);
  ::chmod(f.dir.path().c_str(), 0755);  // let the other uid reach the socket...
  ::chmod(f.path.c_str(), 0666);        // ...and the peer check
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    try {
      Client c(f.path);
      auto res = c.request(http::verb::get, "/v1/version");
      ::_exit(res.result_int() == 403 ? 0 : 11);
    } catch (...) {
      ::_exit(12);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  EXPECT_TRUE(f.engine.calls.empty());
}

TEST(ApiServer, StopEndsOpenEventStreams) {
  ServerFixture f;
  ASSERT_TRUE(f.server);
  Client c(f.path);
  http::request<http::string_body> req{http::verb::get, "/v1/events?since=0", 11};
  req.set(http::field::host, "x");
  http::write(c.sock, req);
  http::response_parser<http::string_body> p;
  http::read_header(c.sock, c.buf, p);
  ASSERT_EQ(p.get().result_int(), 200u);
  // The queued events arrive while the stream is open...
  std::string seen = beast::buffers_to_string(c.buf.data());
  char buf[4096];
  beast::error_code ec;
  while (seen.find("\"start\"") == std::string::npos) {
    size_t n = c.sock.read_some(asio::buffer(buf), ec);
    ASSERT_FALSE(ec) << ec.message();
    seen.append(buf, n);
  }
  EXPECT_NE(seen.find("\"other\""), std::string::npos) << "no stack= filter: every stack's events";
  // ...and stop() ends the stream: serve() returns and the connection closes.
  f.server->stop();
  f.serving.join();
  while (!ec) c.sock.read_some(asio::buffer(buf), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

}  // namespace
}  // namespace stack::orch
