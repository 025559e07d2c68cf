#include <gtest/gtest.h>

#include "compose_test_util.h"
#include "tests/support/bundle.h"
#include "orchestrator/compose/env_file.h"
#include "orchestrator/compose/interpolation.h"

namespace stack::compose {
namespace {

Lookup env_of(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

std::string expand(const std::string& s, std::map<std::string, std::string> m = {{"SET", "v"}, {"EMPTY", ""}}) {
  auto r = interpolate(s, env_of(m));
  return r ? *r : "ERR:" + r.error().context;
}

TEST(ComposeInterpolation, Plain) {
  EXPECT_EQ(expand("${SET}"), "v");
  EXPECT_EQ(expand("$SET/x"), "v/x");
  EXPECT_EQ(expand("a${SET}b"), "avb");
  EXPECT_EQ(expand("${UNSET}"), "");
  EXPECT_EQ(expand("no vars"), "no vars");
}

TEST(ComposeInterpolation, DefaultsColonAndNot) {
  EXPECT_EQ(expand("${UNSET:-d}"), "d");
  EXPECT_EQ(expand("${EMPTY:-d}"), "d");
  EXPECT_EQ(expand("${SET:-d}"), "v");
  EXPECT_EQ(expand("${UNSET-d}"), "d");
  EXPECT_EQ(expand("${EMPTY-d}"), "");
  EXPECT_EQ(expand("${UNSET:-}"), "");
}

TEST(ComposeInterpolation, Alternatives) {
  EXPECT_EQ(expand("${SET:+x}"), "x");
  EXPECT_EQ(expand("${EMPTY:+x}"), "");
  EXPECT_EQ(expand("${EMPTY+x}"), "x");
  EXPECT_EQ(expand("${UNSET+x}"), "");
}

TEST(ComposeInterpolation, RequiredErrors) {
  EXPECT_EQ(expand("${UNSET:?need it}"), "ERR:required variable UNSET is missing a value: need it");
  EXPECT_EQ(expand("${EMPTY:?need it}"), "ERR:required variable EMPTY is missing a value: need it");
  EXPECT_EQ(expand("${EMPTY?need it}"), "");
  EXPECT_EQ(expand("${UNSET?}"), "ERR:required variable UNSET is missing a value");
  EXPECT_EQ(expand("${SET:?x}"), "v");
}

TEST(ComposeInterpolation, DollarEscapeAndNesting) {
  EXPECT_EQ(expand("$$SET"), "$SET");
  EXPECT_EQ(expand("$${SET}"), "${SET}");
  EXPECT_EQ(expand("cost: 5$"), "cost: 5$");
  EXPECT_EQ(expand("${UNSET:-${SET}}"), "v");
  EXPECT_EQ(expand("${UNSET:-${ALSO:-deep}}"), "deep");
  EXPECT_EQ(expand("${UNSET:-a}-${SET}"), "a-v");
  EXPECT_EQ(expand("${SET:-${BAD:?never evaluated}}"), "v");
}

TEST(ComposeInterpolation, BadSyntax) {
  EXPECT_NE(expand("${SET").find("unterminated"), std::string::npos);
  EXPECT_NE(expand("${}").find("invalid interpolation"), std::string::npos);
  EXPECT_NE(expand("${1A}").find("invalid interpolation"), std::string::npos);
  EXPECT_NE(expand("${A B}").find("invalid interpolation"), std::string::npos);
}

TEST(ComposeInterpolation, LoaderErrorsCarryLocation) {
  auto e = cz::load_error("services:\n  web:\n    image: ${IMG:?set IMG}\n");
  EXPECT_EQ(e, "stack.yaml:3:12: services.web.image: required variable IMG is missing a value: set IMG");
}

TEST(ComposeInterpolation, EnvironmentBeatsDotEnvAndUnsetWarns) {
  stack::test::TempDir dir("compose-interp");
  cz::write_file(dir.path() + "/.env", "TAG=from-dotenv\nPORT=8080\n");
  LoadOptions o;
  o.working_dir = dir.path();
  o.environment = {{"TAG", "from-shell"}};
  auto r = load_project_from_string(
      "services:\n  web:\n    image: nginx:${TAG}\n    ports: [\"${PORT}:80\"]\n    user: ${NOBODY}\n", "s.yaml", o);
  ASSERT_TRUE(r) << r.error().message();
  auto& web = r->project.services.at("web");
  EXPECT_EQ(web.image, "nginx:from-shell");
  EXPECT_EQ(web.ports.at(0).published, 8080);
  EXPECT_EQ(web.user, "");
  ASSERT_TRUE(cz::has_warning(*r, "services.web.user"));
  EXPECT_EQ(r->warnings.at(0).to_string(),
            "s.yaml:5:11: services.web.user: the \"NOBODY\" variable is not set, defaulting to a blank string");
}

TEST(ComposeInterpolation, ExplicitEnvFileReplacesDotEnv) {
  stack::test::TempDir dir("compose-interp");
  cz::write_file(dir.path() + "/.env", "TAG=dotenv\n");
  cz::write_file(dir.path() + "/prod.env", "TAG=prod\n");
  LoadOptions o;
  o.working_dir = dir.path();
  o.env_files = {"prod.env"};
  auto r = load_project_from_string("services:\n  web:\n    image: nginx:${TAG}\n", "s.yaml", o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->project.services.at("web").image, "nginx:prod");
}

EnvList parse(const std::string& text, std::map<std::string, std::string> outer = {}) {
  auto r = parse_env_text(text, ".env", env_of(outer));
  EXPECT_TRUE(r) << (r ? "" : r.error().context);
  return r.value_or(EnvList{});
}

TEST(ComposeEnvFile, Forms) {
  auto vars = parse(
      "# comment\n"
      "\n"
      "A=1\n"
      "export B=two\n"
      "C = spaced \n"
      "D=value # trailing comment\n"
      "E=no#comment\n"
      "F='single $A # kept'\n"
      "G=\"double ${A}\\n\\\"q\\\"\"\n"
      "H=\"multi\n"
      "line\"\n"
      "I=\n"
      "J=${A}-${OUTER}\n"
      "OUTER\n"
      "MISSING\n",
      {{"OUTER", "o"}});
  EnvList want = {{"A", "1"},
                  {"B", "two"},
                  {"C", "spaced"},
                  {"D", "value"},
                  {"E", "no#comment"},
                  {"F", "single $A # kept"},
                  {"G", "double 1\n\"q\""},
                  {"H", "multi\nline"},
                  {"I", ""},
                  {"J", "1-o"},
                  {"OUTER", "o"}};
  EXPECT_EQ(vars, want);
}

TEST(ComposeEnvFile, ErrorsNameLine) {
  auto r = parse_env_text("A=1\nB C=2\n", "x.env", nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().context, "x.env:2: unexpected character \"C\" in variable name \"B\"");
  auto q = parse_env_text("A=1\nB=\"open\n", "x.env", nullptr);
  ASSERT_FALSE(q);
  EXPECT_NE(q.error().context.find("x.env:2: unterminated"), std::string::npos);
  auto d = parse_env_text("=1\n", "x.env", nullptr);
  EXPECT_FALSE(d);
}

TEST(ComposeEnvFile, ServiceEnvFileShortLongAndRequired) {
  stack::test::TempDir dir("compose-envfile");
  cz::write_file(dir.path() + "/a.env", "A=from-a\nSHARED=a\n");
  cz::write_file(dir.path() + "/b.env", "B=from-b\nSHARED=b\n");
  LoadOptions o;
  o.working_dir = dir.path();
  o.environment = {{"HOSTVAR", "h"}};
  auto r = load_project_from_string(R"(
services:
  web:
    image: nginx
    env_file:
      - a.env
      - path: b.env
        required: true
      - path: missing.env
        required: false
    environment:
      SHARED: explicit
      HOSTVAR:
      NOTSET:
  one:
    image: nginx
    env_file: a.env
    environment: [X=1, "Y=a=b"]
)",
                                    "s.yaml", o);
  ASSERT_TRUE(r) << r.error().message();
  std::map<std::string, std::string> want = {{"A", "from-a"}, {"B", "from-b"}, {"SHARED", "explicit"}, {"HOSTVAR", "h"}};
  EXPECT_EQ(r->project.services.at("web").environment, want);
  std::map<std::string, std::string> want1 = {{"A", "from-a"}, {"SHARED", "a"}, {"X", "1"}, {"Y", "a=b"}};
  EXPECT_EQ(r->project.services.at("one").environment, want1);

  auto e = load_project_from_string("services:\n  web:\n    image: nginx\n    env_file: nope.env\n", "s.yaml", o);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message(), "s.yaml:4:15: services.web.env_file: env file " + dir.path() + "/nope.env not found");
}

}  // namespace
}  // namespace stack::compose
