// config.json parsing: a valid spec round-trips, and every class of bad
// input names the field it is about.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/container/container.h"
#include "runtime/container/default_spec.h"
#include "runtime/container/init.h"
#include "runtime/oci/spec.h"
#include "runtime/kernel/capabilities.h"
#include "runtime/kernel/rlimits.h"

using nlohmann::json;
using namespace stack::rt;

namespace {

json base() { return spec_to_json(default_spec()); }

std::string error_of(const json& j) {
  auto r = parse_spec(j, "config.json");
  EXPECT_FALSE(r) << "accepted: " << j.dump();
  return r ? "" : r.error().message();
}

TEST(Spec, DefaultSpecRoundTrips) {
  auto parsed = parse_spec(base());
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(spec_to_json(*parsed), base());
  EXPECT_EQ(parsed->process.capabilities->bounding, docker_default_capabilities());
  EXPECT_TRUE(has_namespace(*parsed, "cgroup"));
  EXPECT_FALSE(has_namespace(*parsed, "user"));
}

TEST(Spec, ErrorsNameTheField) {
  json j = base();
  j["process"].erase("args");
  EXPECT_EQ(error_of(j), "config.json: process.args: is required: Invalid argument");

  j = base();
  j["process"]["args"] = {"sh", 3};
  EXPECT_NE(error_of(j).find("process.args[1]: must be a string"), std::string::npos);

  j = base();
  j["process"]["args"] = json::array();
  EXPECT_NE(error_of(j).find("process.args: must not be empty"), std::string::npos);

  j = base();
  j["process"]["cwd"] = "relative";
  EXPECT_NE(error_of(j).find("process.cwd: must be an absolute path"), std::string::npos);

  j = base();
  j["linux"]["namespaces"].push_back({{"type", "bogus"}});
  EXPECT_NE(error_of(j).find("linux.namespaces[6].type: unknown namespace type \"bogus\""), std::string::npos);

  j = base();
  j["linux"]["namespaces"].push_back({{"type", "pid"}});
  EXPECT_NE(error_of(j).find("duplicate namespace \"pid\""), std::string::npos);

  j = base();
  j["linux"]["resources"] = {{"memory", {{"limit", "lots"}}}};
  EXPECT_NE(error_of(j).find("linux.resources.memory.limit: must be an integer"), std::string::npos);

  j = base();
  j["linux"]["resources"] = {{"devices", {{{"allow", true}, {"access", "rwx"}}}}};
  EXPECT_NE(error_of(j).find("linux.resources.devices[0].access"), std::string::npos);

  j = base();
  j["mounts"][0].erase("destination");
  EXPECT_NE(error_of(j).find("mounts[0].destination: is required"), std::string::npos);

  j = base();
  j["process"]["oomScoreAdj"] = 5000;
  EXPECT_NE(error_of(j).find("process.oomScoreAdj"), std::string::npos);

  j = base();
  j["linux"]["seccomp"]["syscalls"][0]["args"] = {{{"index", 9}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}};
  EXPECT_NE(error_of(j).find("linux.seccomp.syscalls[0].args[0].index"), std::string::npos);

  j = base();
  j["linux"]["namespaces"] = {{{"type", "mount"}}, {{"type", "pid"}}};
  EXPECT_NE(error_of(j).find("hostname: requires a new uts namespace"), std::string::npos);
}

TEST(Spec, InvalidJsonGivesTheByteOffset) {
  auto r = parse_spec_text("{\"ociVersion\": ", "b/config.json");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("b/config.json: invalid JSON at byte"), std::string::npos);
}

TEST(Spec, ProcessJsonForExec) {
  json p = base()["process"];
  p["args"] = {"ls", "-l"};
  auto r = parse_process(p, "process.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->args, (std::vector<std::string>{"ls", "-l"}));
  p.erase("args");
  auto bad = parse_process(p, "process.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("process.json: process.args: is required"), std::string::npos);
}

TEST(Capabilities, NamesResolveAndUnknownOnesAreErrors) {
  EXPECT_EQ(*capability_from_name("CAP_CHOWN"), 0);
  EXPECT_EQ(*capability_from_name("net_admin"), 12);
  EXPECT_EQ(capability_name(21), "CAP_SYS_ADMIN");
  auto bad = plan_capabilities(Capabilities{{"CAP_NOPE"}, {}, {}, {}, {}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("process.capabilities.bounding: unknown capability \"CAP_NOPE\""),
            std::string::npos);
  auto ok = plan_capabilities(Capabilities{{"CAP_CHOWN", "CAP_KILL"}, {"CAP_KILL"}, {}, {"CAP_KILL"}, {}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->bounding, (1ULL << 0) | (1ULL << 5));
  EXPECT_EQ(ok->effective, 1ULL << 5);
}

TEST(Rlimits, NamesAndSoftAboveHardAreChecked) {
  EXPECT_EQ(*rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_EQ(*rlimit_from_name("nproc"), RLIMIT_NPROC);
  auto bad = plan_rlimits({{"RLIMIT_NOPE", 1, 1}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("process.rlimits[0].type"), std::string::npos);
  auto inverted = plan_rlimits({{"RLIMIT_NOFILE", 10, 20}});
  ASSERT_FALSE(inverted);
  EXPECT_NE(inverted.error().message().find("soft limit 20 exceeds hard limit 10"), std::string::npos);
}

TEST(ExecCandidates, FollowPathOrderOrTakeAnExplicitPath) {
  EXPECT_EQ(exec_candidates("/bin/sh", {}), (std::vector<std::string>{"/bin/sh"}));
  EXPECT_EQ(exec_candidates("sh", {"PATH=/a:/b"}), (std::vector<std::string>{"/a/sh", "/b/sh"}));
  EXPECT_EQ(exec_candidates("sh", {}).back(), "/bin/sh");
}

TEST(Signals, NamesNumbersAndPrefixes) {
  EXPECT_EQ(*parse_signal("KILL"), 9);
  EXPECT_EQ(*parse_signal("sigterm"), 15);
  EXPECT_EQ(*parse_signal("1"), 1);
  EXPECT_FALSE(parse_signal("SIGNOPE"));
  EXPECT_FALSE(parse_signal("0"));
  EXPECT_FALSE(parse_signal("9x"));
  EXPECT_FALSE(parse_signal("15 "));
  EXPECT_FALSE(parse_signal("99999999999"));
}

TEST(ContainerIds, FollowRuncsRule) {
  EXPECT_TRUE(validate_id("web-1.a_b"));
  EXPECT_FALSE(validate_id(""));
  EXPECT_FALSE(validate_id("../x"));
  EXPECT_FALSE(validate_id("-lead"));
  EXPECT_FALSE(validate_id("a/b"));
}

}  // namespace
