#include <gtest/gtest.h>

#include "compose_test_util.h"
#include "orchestrator/compose/schema.h"

namespace stack::compose {
namespace {

using cz::load_error;

TEST(ComposeSchema, UnknownServiceFieldWithSuggestion) {
  auto e = load_error(
      "name: shop\n"
      "services:\n"
      "  web:\n"
      "    image: nginx\n"
      "    prots:\n"
      "      - 80\n");
  EXPECT_EQ(e, "stack.yaml:5:5: services.web.prots: additional property \"prots\" is not allowed (did you mean \"ports\"?)");
}

TEST(ComposeSchema, UnknownFieldFarFromAnyNameHasNoSuggestion) {
  auto e = load_error("services:\n  web:\n    image: nginx\n    zzzzzzzz: 1\n");
  EXPECT_EQ(e, "stack.yaml:4:5: services.web.zzzzzzzz: additional property \"zzzzzzzz\" is not allowed");
}

TEST(ComposeSchema, UnknownTopLevelField) {
  auto e = load_error("servises:\n  web:\n    image: nginx\n");
  EXPECT_EQ(e, "stack.yaml:1:1: servises: additional property \"servises\" is not allowed (did you mean \"services\"?)");
}

TEST(ComposeSchema, ExtensionKeysAreAllowed) {
  auto r = cz::load_yaml("x-common: &c {a: 1}\nservices:\n  web:\n    image: nginx\n    x-team: blue\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->project.extensions.at("x-common"), "{\"a\":1}");
  EXPECT_EQ(r->project.services.at("web").extensions.at("x-team"), "\"blue\"");
}

TEST(ComposeSchema, WrongTypes) {
  EXPECT_EQ(load_error("services:\n  web:\n    image: nginx\n    ports: \"80:80\"\n"),
            "stack.yaml:4:12: services.web.ports: expected a list, got \"80:80\"");
  EXPECT_EQ(load_error("services:\n  web:\n    image: nginx\n    read_only: maybe\n"),
            "stack.yaml:4:16: services.web.read_only: expected true or false, got \"maybe\"");
  EXPECT_EQ(load_error("services:\n  web:\n    image: [a]\n"),
            "stack.yaml:3:12: services.web.image: expected a string, got a list");
  EXPECT_EQ(load_error("services: []\n"), "stack.yaml:1:11: services: expected a mapping, got a list");
}

TEST(ComposeSchema, NestedLongFormErrorsPointInside) {
  auto e = load_error(
      "services:\n"
      "  web:\n"
      "    image: nginx\n"
      "    ports:\n"
      "      - target: 80\n"
      "        publised: 8080\n");
  EXPECT_EQ(e, "stack.yaml:6:9: services.web.ports[0].publised: additional property \"publised\" is not allowed "
               "(did you mean \"published\"?)");
}

TEST(ComposeSchema, EnumAndRange) {
  auto e = load_error(
      "services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: service_happy\n  b:\n    image: x\n");
  EXPECT_NE(e.find("stack.yaml:6:20: services.a.depends_on.b.condition: \"service_happy\" is not one of"), std::string::npos)
      << e;
  auto r = load_error("services:\n  web:\n    image: x\n    oom_score_adj: \"2000\"\n");
  EXPECT_EQ(r, "<loaded>");  // a quoted string is a valid branch of oom_score_adj's oneOf
  auto n = load_error("services:\n  web:\n    image: x\n    cpu_percent: 300\n");
  EXPECT_EQ(n, "<loaded>");  // string branch again
}

TEST(ComposeSchema, NumbersFromInterpolationAreAccepted) {
  LoadOptions o;
  o.environment = {{"N", "3"}, {"RO", "true"}};
  auto r = cz::load_yaml("services:\n  web:\n    image: x\n    deploy:\n      replicas: ${N}\n    read_only: ${RO}\n", o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->project.services.at("web").replicas, 3);
  EXPECT_TRUE(r->project.services.at("web").read_only);
}

TEST(ComposeSchema, DuplicateListEntries) {
  auto e = load_error("services:\n  web:\n    image: x\n    cap_add: [NET_ADMIN, NET_ADMIN]\n");
  EXPECT_EQ(e, "stack.yaml:4:26: services.web.cap_add[1]: duplicate entry \"NET_ADMIN\"");
}

TEST(ComposeSchema, ReportsSeveralErrorsOneALine) {
  auto e = load_error("services:\n  web:\n    image: x\n    foo: 1\n    bar: 2\n");
  EXPECT_NE(e.find("stack.yaml:4:5: services.web.foo: additional property \"foo\" is not allowed"), std::string::npos);
  EXPECT_NE(e.find("\nstack.yaml:5:5: services.web.bar: additional property \"bar\""), std::string::npos);
}

TEST(ComposeSchema, YamlSyntaxErrorHasPosition) {
  auto e = load_error("services:\n  web:\n    image: [unclosed\n");
  EXPECT_EQ(e.rfind("stack.yaml:", 0), 0u) << e;
  EXPECT_NE(e.find("yaml:"), std::string::npos);
  EXPECT_EQ(load_error("services:\n  web:\n    image: a\n    image: b\n"),
            "stack.yaml:4:5: image: yaml: duplicate key");
}

TEST(ComposeSchema, MergeKeysAndAnchors) {
  auto r = cz::load_yaml(
      "x-base: &base\n  image: busybox\n  restart: always\n"
      "services:\n  a:\n    <<: *base\n  b:\n    <<: *base\n    restart: \"no\"\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->project.services.at("a").restart, "always");
  EXPECT_EQ(r->project.services.at("b").restart, "no");
  EXPECT_EQ(r->project.services.at("b").image, "busybox");
}

TEST(ComposeSchema, TopLevelResourcesAreChecked) {
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\nnetworks:\n  front:\n    drvier: bridge\n"),
            "stack.yaml:6:5: networks.front.drvier: additional property \"drvier\" is not allowed (did you mean \"driver\"?)");
  EXPECT_EQ(load_error("services:\n  a:\n    image: x\nvolumes:\n  data:\n    external: sometimes\n"),
            "stack.yaml:6:15: volumes.data.external: expected true or false, got \"sometimes\"");
}

TEST(ComposeSchema, EditDistance) {
  EXPECT_EQ(edit_distance("prots", "ports"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(closest_name("imgae", {"image", "init", "ipc"}), "image");
  EXPECT_EQ(closest_name("qqqqqq", {"image", "init"}), "");
}

}  // namespace
}  // namespace stack::compose
