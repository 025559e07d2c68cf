// Regressions for bugs found by the libFuzzer targets (tests/fuzz). Each test
// names its target; the crashing input is also in that target's corpus
// (tests/fuzz/corpus/<target>/crash-*), so the CI fuzz run replays it too.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "netplane/dns_message.h"
#include "orchestrator/daemon/server/http_routes.h"
#include "runtime/oci/spec.h"
#include "tests/unit/compose_test_util.h"
#include "tests/unit/fake_engine.h"

namespace stack::orch {
namespace {

using nlohmann::json;

struct Capture : ApiResponder {
  int status = 0;
  std::string body;
  std::vector<std::string> lines;
  std::atomic<bool> cancel{false};
  void reply(int s, const std::string& b) override {
    status = s;
    body = b;
  }
  void start_stream() override { status = 200; }
  bool write_line(const std::string& l) override {
    lines.push_back(l);
    return true;
  }
  const std::atomic<bool>& cancelled() override { return cancel; }
  void relay(ExecSession&) override { status = 101; }
};

// fuzz_api_request: a reply echoing a path or query key that is not UTF-8
// made json::dump() throw type_error 316 out of the connection thread, which
// terminated stackd ("GET /v1/%ff" from any socket user).
TEST(FuzzRegressions, NonUtf8PathAndQueryAreAnsweredNotThrown) {
  FakeEngine e;
  for (std::string target : {"/v1/%ff", "/v1/stacks/shop/down?%fe=1", "/%c3"}) {
    ApiRequest r;
    r.method = "POST";
    parse_target(target, r.path, r.query);
    Capture out;
    ASSERT_NO_THROW(handle_request(e, ServerInfo{"/x"}, r, out)) << target;
    EXPECT_GE(out.status, 400) << target;
    auto j = json::parse(out.body);
    EXPECT_NE(j["error"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos) << out.body;  // U+FFFD
  }
}

// fuzz_api_request: container output is bytes, not UTF-8; a log line with an
// invalid sequence threw from the logs stream the same way.
TEST(FuzzRegressions, NonUtf8LogLinesAreStreamed) {
  struct BinaryLogs : FakeEngine {
    stack::Result<void> logs(const std::string&, const LogOptions&, const std::function<bool(const LogLine&)>& sink,
                          const std::atomic<bool>&) override {
      sink(LogLine{"web", "shop-web-1", "stdout", 1, "bytes \xff\xfe end"});
      return {};
    }
  } e;
  ApiRequest r;
  r.method = "GET";
  parse_target("/v1/stacks/shop/logs", r.path, r.query);
  Capture out;
  ASSERT_NO_THROW(handle_request(e, ServerInfo{"/x"}, r, out));
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(json::parse(out.lines[0])["text"], "bytes \xEF\xBF\xBD\xEF\xBF\xBD end");
}

// fuzz_api_request: "POST /v1/stacks" (any method but GET) read parts[3] of
// a 3-element split: an out-of-bounds read used as the stack name.
TEST(FuzzRegressions, StacksWithoutANameIs404) {
  FakeEngine e;
  for (std::string method : {"POST", "DELETE", "PUT"}) {
    ApiRequest r;
    r.method = method;
    parse_target("/v1/stacks", r.path, r.query);
    Capture out;
    handle_request(e, ServerInfo{"/x"}, r, out);
    EXPECT_EQ(out.status, 404) << method;
  }
  EXPECT_TRUE(e.calls.empty());
}

// fuzz_compose: a value that is not UTF-8 loaded fine, then to_json() (the
// CLI's request to stackd, `stack config --format json`) threw type_error 316
// and the CLI died. Now the load fails naming the place.
TEST(FuzzRegressions, ComposeValuesMustBeUtf8) {
  using compose::cz::load_error;
  EXPECT_NE(load_error("services:\n  web:\n    image: \"busybox\xff\"\n").find("stack.yaml:3:12: services.web.image: not valid UTF-8"),
            std::string::npos)
      << load_error("services:\n  web:\n    image: \"busybox\xff\"\n");
  EXPECT_NE(load_error("services:\n  web:\n    image: busybox\n    labels: {\"k\xc3\": v}\n").find("not valid UTF-8"),
            std::string::npos);
  // Overlong "/" and a UTF-16 surrogate, as nlohmann refuses them.
  EXPECT_NE(load_error("services: {web: {image: \"a\xc0\xaf\"}}\n").find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(load_error("services: {web: {image: \"a\xed\xa0\x80\"}}\n").find("not valid UTF-8"), std::string::npos);
  compose::LoadOptions env;
  env.environment = {{"TAG", "\xff"}};
  EXPECT_NE(load_error("services: {web: {image: \"busybox:${TAG}\"}}\n", env).find("not valid UTF-8"),
            std::string::npos);
  // Valid multi-byte text still loads and round-trips.
  auto ok = compose::cz::load_yaml("services: {web: {image: busybox, labels: {note: \"caf\xc3\xa9 \xf0\x9f\x90\xb3\"}}}\n");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_TRUE(compose::project_from_json(compose::to_json(ok->project)));
}

TEST(FuzzRegressions, ComposeEnvFileValuesMustBeUtf8) {
  test::TempDir dir;
  compose::cz::write_file(dir.path() + "/bad.env", "A=\xfe\xff\n");
  compose::LoadOptions o;
  o.working_dir = dir.path();
  std::string err = compose::cz::load_error("services: {web: {image: busybox, env_file: [bad.env]}}\n", o);
  EXPECT_NE(err.find("not valid UTF-8"), std::string::npos) << err;
}

// fuzz_compose: an alias inside its own anchor makes yaml-cpp build a cyclic
// graph; converting it recursed until the stack overflowed (a segfault of
// `stack`). Deep nesting is bounded the same way.
TEST(FuzzRegressions, ComposeSelfAliasAndDeepNestingFail) {
  std::string err = compose::cz::load_error("x-common: &c\n  restart: always\n  again: {<<: *c}\nservices: {}\n");
  EXPECT_NE(err.find("alias inside its own anchor"), std::string::npos) << err;
  err = compose::cz::load_error("x-a: &a [*a]\nservices: {}\n");
  EXPECT_NE(err.find("nested deeper than"), std::string::npos) << err;
  std::string deep = "x-deep: " + std::string(300, '[') + std::string(300, ']') + "\nservices: {}\n";
  err = compose::cz::load_error(deep);
  EXPECT_NE(err.find("nested deeper than"), std::string::npos) << err;
}

// fuzz_oci_spec: a number past double's range ("1e400") made the re-parse
// for the error position throw out_of_range, which was not caught: the
// runtime aborted on such a config.json instead of reporting it.
TEST(FuzzRegressions, SpecNumberOverflowIsAnError) {
  auto r = rt::parse_spec_text(R"({"ociVersion": "1.0.2", "process": {"user": {"uid": 1e400}}})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("invalid JSON"), std::string::npos) << r.error().message();
}

// A query whose additional section holds a record with a chain of `hops`
// compression pointers (each to the one before) in its data, then a record
// whose owner name is the end of that chain.
std::vector<uint8_t> pointer_chain_query(size_t hops) {
  std::vector<uint8_t> p = {0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 2};  // id 1, RD, 1 question, 2 additional
  for (uint8_t b : {1, 0x61, 0, 0, 1, 0, 1}) p.push_back(b);           // "a." A IN
  for (uint8_t b : {0, 0, 1, 0, 1, 0, 0, 0, 0}) p.push_back(b);        // root owner, A IN, TTL 0
  p.push_back(static_cast<uint8_t>(hops * 2 >> 8));
  p.push_back(static_cast<uint8_t>(hops * 2));
  size_t chain_at = p.size();
  for (size_t i = 0; i < hops; ++i) {
    size_t to = i == 0 ? 12 : chain_at + 2 * (i - 1);
    p.push_back(static_cast<uint8_t>(0xC0 | to >> 8));
    p.push_back(static_cast<uint8_t>(to));
  }
  size_t end = chain_at + 2 * (hops - 1);
  p.push_back(static_cast<uint8_t>(0xC0 | end >> 8));
  p.push_back(static_cast<uint8_t>(end));
  for (uint8_t b : {0, 1, 0, 1, 0, 0, 0, 0, 0, 0}) p.push_back(b);
  return p;
}

// fuzz_dns_message (seen while writing its seeds, not a crash): jumps were
// only required to go backwards, so a 64 KiB TCP query with an 8K-pointer
// chain named by 4K records took 32M steps to parse on stackd's resolver.
// Now a name may use at most 127 pointers, as many as it can have labels.
TEST(FuzzRegressions, DnsPointerChainsAreBounded) {
  auto ok = net::dns::parse_query(pointer_chain_query(100));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->labels, std::vector<std::string>{"a"});
  auto long_chain = net::dns::parse_query(pointer_chain_query(200));
  ASSERT_FALSE(long_chain);
  EXPECT_NE(long_chain.error().message().find("compression pointers"), std::string::npos)
      << long_chain.error().message();
}

}  // namespace
}  // namespace stack::orch
