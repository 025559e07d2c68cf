// stackd's API routes (daemon/http_routes.cc) against a recording fake
// Engine: validation answers 400 naming the field and never reaches the
// engine; engine errors map to statuses; streams deliver JSON lines. Plus the
// exec frame codec (daemon/framing.cc). The transport itself is exercised in
// api_server_test.cc over a real Unix socket.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "orchestrator/api/framing.h"
#include "orchestrator/daemon/server/http_routes.h"
#include "tests/unit/fake_engine.h"

namespace stack::orch {
namespace {

using nlohmann::json;

struct Recorder : ApiResponder {
  Recorder() = default;
  Recorder(const Recorder& o)
      : status(o.status), body(o.body), streamed(o.streamed), lines(o.lines), max_lines(o.max_lines),
        cancel(o.cancel.load()) {}
  int status = 0;
  std::string body;
  bool streamed = false;
  std::vector<std::string> lines;
  size_t max_lines = 100;
  std::atomic<bool> cancel{false};
  void reply(int s, const std::string& b) override {
    status = s;
    body = b;
  }
  void start_stream() override {
    streamed = true;
    status = 200;
  }
  bool write_line(const std::string& l) override {
    lines.push_back(l);
    if (lines.size() >= max_lines) cancel = true;
    return !cancel;
  }
  const std::atomic<bool>& cancelled() override { return cancel; }
  void relay(ExecSession&) override { status = 101; }
  std::string error() const { return json::parse(body).value("error", ""); }
};

Recorder call(FakeEngine& e, const std::string& method, const std::string& target, const std::string& body = "",
              bool upgrade = false) {
  ApiRequest r;
  r.method = method;
  parse_target(target, r.path, r.query);
  r.body = body;
  r.upgrade = upgrade;
  Recorder out;
  handle_request(e, ServerInfo{"/var/lib/test"}, r, out);
  return out;
}

TEST(ApiRoutes, VersionNamesApiAndRoot) {
  FakeEngine e;
  auto r = call(e, "GET", "/v1/version");
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["api"], "1");
  EXPECT_EQ(j["root"], "/var/lib/test");
}

TEST(ApiRoutes, UnknownEndpointAndMethod) {
  FakeEngine e;
  EXPECT_EQ(call(e, "GET", "/v2/version").status, 404);
  EXPECT_EQ(call(e, "DELETE", "/v1/stacks/shop").status, 405);
  EXPECT_EQ(call(e, "GET", "/v1/stacks/shop/up").status, 404);
}

TEST(ApiRoutes, BadStackNameIs400) {
  FakeEngine e;
  auto r = call(e, "POST", "/v1/stacks/Bad%20Name/stop", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.error().find("bad stack name"), std::string::npos) << r.body;
  EXPECT_TRUE(e.calls.empty());
}

TEST(ApiRoutes, UpRejectsBadJsonUnknownFieldsAndWrongTypesWithoutCallingTheEngine) {
  FakeEngine e;
  auto bad = call(e, "POST", "/v1/stacks/shop/up", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.error().find("not valid JSON"), std::string::npos);
  auto unknown = call(e, "POST", "/v1/stacks/shop/up", R"({"project":{},"wiat":true})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.error().find("\"wiat\""), std::string::npos) << unknown.body;
  auto missing = call(e, "POST", "/v1/stacks/shop/up", R"({"wait":true})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.error().find("\"project\""), std::string::npos) << missing.body;
  auto pull = call(e, "POST", "/v1/stacks/shop/up", R"({"project":{"name":"shop"},"pull":"sometimes"})");
  EXPECT_EQ(pull.status, 400);
  EXPECT_TRUE(e.calls.empty());
}

TEST(ApiRoutes, ScaleValidatesCounts) {
  FakeEngine e;
  auto neg = call(e, "POST", "/v1/stacks/shop/scale", R"({"replicas":{"web":-1}})");
  EXPECT_EQ(neg.status, 400);
  EXPECT_NE(neg.error().find("replicas.web"), std::string::npos) << neg.body;
  auto text = call(e, "POST", "/v1/stacks/shop/scale", R"({"replicas":{"web":"5"}})");
  EXPECT_EQ(text.status, 400);
  auto none = call(e, "POST", "/v1/stacks/shop/scale", R"({"replicas":{}})");
  EXPECT_EQ(none.status, 400);
  EXPECT_TRUE(e.calls.empty());
  auto ok = call(e, "POST", "/v1/stacks/shop/scale", R"({"replicas":{"web":5,"api":0}})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  ASSERT_EQ(e.calls.size(), 1u);
  EXPECT_EQ(e.calls[0], "scale shop api=0 web=5");
}

TEST(ApiRoutes, EngineErrorsMapToStatuses) {
  FakeEngine e;
  e.next_error = stack::Error{ENOENT, "no such stack: shop"};
  auto r = call(e, "POST", "/v1/stacks/shop/stop", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error(), "no such stack: shop");
  e.next_error = stack::Error{EADDRINUSE, "port 80 is taken"};
  EXPECT_EQ(call(e, "POST", "/v1/stacks/shop/scale", R"({"replicas":{"web":2}})").status, 409);
  e.next_error = stack::Error{EIO, "disk"};
  EXPECT_EQ(call(e, "POST", "/v1/stacks/shop/down").status, 500);
}

TEST(ApiRoutes, LifecycleAndDownPassServicesAndFlags) {
  FakeEngine e;
  EXPECT_EQ(call(e, "POST", "/v1/stacks/shop/stop", R"({"services":["web","api"]})").status, 200);
  EXPECT_EQ(call(e, "POST", "/v1/stacks/shop/restart", "").status, 200);
  EXPECT_EQ(call(e, "POST", "/v1/stacks/shop/down?volumes=1").status, 200);
  EXPECT_EQ(call(e, "POST", "/v1/stacks/shop/down?volumez=1").status, 400);
  EXPECT_EQ(call(e, "POST", "/v1/stacks/shop/start", R"({"services":"web"})").status, 400);
  EXPECT_EQ(e.calls, (std::vector<std::string>{"stop shop web,api", "restart shop ", "down shop volumes=1"}));
}

TEST(ApiRoutes, PsAllStacksAndReplicaJson) {
  FakeEngine e;
  auto r = call(e, "GET", "/v1/stacks/_all/ps");
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "shop-web-1");
  EXPECT_EQ(j[0]["ports"][0]["published"], 8080);
  EXPECT_EQ(e.calls, (std::vector<std::string>{"ps "}));
}

TEST(ApiRoutes, LogsStreamLinesWithOptions) {
  FakeEngine e;
  auto r = call(e, "GET", "/v1/stacks/shop/logs?tail=5&service=web&service=api&follow=1");
  EXPECT_TRUE(r.streamed);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(json::parse(r.lines[1])["text"], "line 2");
  EXPECT_EQ(e.calls.back(), "logs shop tail=5 follow=1 services=web,api");
  auto bad = call(e, "GET", "/v1/stacks/shop/logs?tail=x");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.error().find("tail"), std::string::npos);
}

TEST(ApiRoutes, EventsStreamFiltersByStackUntilCancelled) {
  FakeEngine e;
  ApiRequest req;
  req.method = "GET";
  parse_target("/v1/events?stack=shop&since=0", req.path, req.query);
  Recorder out;
  out.max_lines = 2;
  handle_request(e, ServerInfo{}, req, out);
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(json::parse(out.lines[0])["type"], "create");
  EXPECT_EQ(json::parse(out.lines[1])["stack"], "shop");
  EXPECT_EQ(e.last_since, 0u);
}

TEST(ApiRoutes, ExecNeedsUpgradeAndValidRequest) {
  FakeEngine e;
  EXPECT_EQ(call(e, "POST", "/v1/stacks/shop/exec", R"({"service":"web","cmd":["ls"]})").status, 400);
  auto noservice = call(e, "POST", "/v1/stacks/shop/exec", R"({"cmd":["ls"]})", true);
  EXPECT_EQ(noservice.status, 400);
  EXPECT_NE(noservice.error().find("service"), std::string::npos);
  auto env = call(e, "POST", "/v1/stacks/shop/exec", R"({"service":"web","cmd":["ls"],"env":["NOEQUALS"]})", true);
  EXPECT_EQ(env.status, 400);
  auto rm_on_exec = call(e, "POST", "/v1/stacks/shop/exec", R"({"service":"web","cmd":["ls"],"rm":true})", true);
  EXPECT_EQ(rm_on_exec.status, 400);
  EXPECT_TRUE(e.calls.empty());
  EXPECT_EQ(call(e, "POST", "/v1/stacks/shop/run", R"({"service":"web","cmd":["ls"],"rm":true})", true).status, 101);
  EXPECT_EQ(e.calls, (std::vector<std::string>{"run shop web ls rm=1"}));
}

TEST(ApiRoutes, TargetDecoding) {
  std::string path;
  std::multimap<std::string, std::string> q;
  parse_target("/v1/stacks/a%2Db/logs?service=we%20b&follow&tail=3", path, q);
  EXPECT_EQ(path, "/v1/stacks/a-b/logs");
  EXPECT_EQ(q.find("service")->second, "we b");
  EXPECT_EQ(q.find("follow")->second, "1");
  EXPECT_EQ(q.find("tail")->second, "3");
}

TEST(Framing, RoundTripAcrossArbitrarySplits) {
  std::string wire = encode_frame(FrameType::Stdout, "hello") + encode_frame(FrameType::Stdin, "") +
                     encode_frame(FrameType::Exit, "3");
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    FrameDecoder d;
    d.feed(wire.data(), cut);
    std::vector<Frame> got;
    while (auto f = d.next()) got.push_back(*f);
    d.feed(wire.data() + cut, wire.size() - cut);
    while (auto f = d.next()) got.push_back(*f);
    ASSERT_EQ(got.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(got[0].payload, "hello");
    EXPECT_EQ(got[1].type, FrameType::Stdin);
    EXPECT_TRUE(got[1].payload.empty());
    EXPECT_EQ(got[2].type, FrameType::Exit);
    EXPECT_EQ(got[2].payload, "3");
  }
}

TEST(Framing, OversizedOrUnknownFramesAreProtocolErrors) {
  FrameDecoder big;
  std::string h{"\x01\x7f\xff\xff\xff", 5};
  big.feed(h.data(), h.size());
  EXPECT_FALSE(big.next());
  EXPECT_NE(big.error().find("exceeds"), std::string::npos);
  FrameDecoder bad;
  std::string t{"\x09\x00\x00\x00\x00", 5};
  bad.feed(t.data(), t.size());
  EXPECT_FALSE(bad.next());
  EXPECT_NE(bad.error().find("unknown frame type 9"), std::string::npos);
}

}  // namespace
}  // namespace stack::orch
