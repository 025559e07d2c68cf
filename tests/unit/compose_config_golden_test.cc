// `stack config` against Compose: the YAML a user sees for a set of small
// files, compared with hand-written golden files (tests/unit/golden/config,
// see its README), and the load errors Compose gives for an empty file and an
// include cycle.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "compose_test_util.h"

namespace stack::compose {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = fs::path(STACK_SOURCE_DIR) / "tests/unit/golden/config";

std::string read_golden(const std::string& name) {
  std::ifstream in(kGoldenDir / name);
  EXPECT_TRUE(in.good()) << "missing golden file " << (kGoldenDir / name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The case's input as /srv/shop/compose.yaml (project "shop"), printed as
// `stack config` prints it. Nothing is read from /srv: a string input.
std::string config_of(const std::string& name) {
  LoadOptions o;
  o.working_dir = "/srv/shop";
  o.read_file_data = false;  // as `stack config` loads: the secret files are not there
  auto r = load_project_from_string(read_golden(name + ".compose.yaml"), "compose.yaml", o);
  if (!r) return "load failed: " + r.error().message() + "\n";
  return to_yaml(r->project);
}

void expect_golden(const std::string& name) {
  // EXPECT_EQ on the two texts prints a line diff when they differ.
  EXPECT_EQ(config_of(name), read_golden(name + ".config.yaml")) << "case " << name;
}

TEST(ComposeConfigGolden, BuildWithoutImageIsNamedAfterProjectAndService) { expect_golden("build"); }

TEST(ComposeConfigGolden, NetworksWithoutOptionsAndEmptyValuesArePrinted) { expect_golden("empty_values"); }

TEST(ComposeConfigGolden, SecretsPlatformAndRuntimeArePrinted) { expect_golden("service_fields"); }

TEST(ComposeConfigGolden, NetworksAndVolumesPrintTheirResourceName) { expect_golden("resource_names"); }

// The JSON view (what stackd receives) keeps what the YAML view now prints:
// the same values, and the new fields read back exactly.
TEST(ComposeConfigGolden, JsonKeepsBuildSecretsPlatformRuntimeAndEmptyValues) {
  for (const char* name : {"build", "empty_values", "service_fields"}) {
    LoadOptions o;
    o.working_dir = "/srv/shop";
  o.read_file_data = false;  // as `stack config` loads: the secret files are not there
    auto r = load_project_from_string(read_golden(std::string(name) + ".compose.yaml"), "compose.yaml", o);
    ASSERT_TRUE(r) << name << ": " << r.error().message();
    std::string json = to_json(r->project);
    auto back = project_from_json(json);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(to_json(*back), json) << name;
    EXPECT_EQ(to_yaml(*back), to_yaml(r->project)) << name;
  }
  LoadOptions o;
  o.working_dir = "/srv/shop";
  o.read_file_data = false;  // as `stack config` loads: the secret files are not there
  auto r = load_project_from_string(read_golden("service_fields.compose.yaml"), "compose.yaml", o);
  ASSERT_TRUE(r);
  auto j = nlohmann::json::parse(to_json(r->project));
  EXPECT_EQ(j["services"]["api"]["platform"], "linux/amd64");
  EXPECT_EQ(j["services"]["api"]["runtime"], "runc");
  EXPECT_EQ(j["services"]["api"]["secrets"][1]["target"], "/etc/tls/key.pem");
  EXPECT_EQ(j["services"]["api"]["secrets"][1]["mode"], 0440);
}

// Compose refuses a file with nothing in it ("empty compose file"); a comment
// is nothing. A file that only sets `name:` or `services: {}` is something.
TEST(ComposeConfigGolden, ACommentOnlyFileIsAnEmptyComposeFile) {
  EXPECT_EQ(cz::load_error("# nothing here yet\n"), "stack.yaml: empty compose file");
  EXPECT_EQ(cz::load_error(""), "stack.yaml: empty compose file");
  EXPECT_EQ(cz::load_error("{}\n"), "stack.yaml: empty compose file");
  EXPECT_TRUE(cz::load_yaml("services: {}\n"));

  // Several -f files: only all of them empty is an error (an empty override is fine).
  stack::test::TempDir dir{"compose-config-golden"};
  cz::write_file(dir.path() + "/compose.yaml", "services:\n  web:\n    image: nginx\n");
  cz::write_file(dir.path() + "/empty.yaml", "# later\n");
  LoadOptions o;
  o.working_dir = dir.path();
  o.files = {"compose.yaml", "empty.yaml"};
  EXPECT_TRUE(load_project(o));
  o.files = {"empty.yaml"};
  auto r = load_project(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "empty.yaml: empty compose file");
}

// An include cycle is reported once, at the include that closes it, with the
// chain of files from the first one (Compose: "include cycle detected").
TEST(ComposeConfigGolden, IncludeCycleNamesTheChainOnce) {
  stack::test::TempDir dir{"compose-config-golden"};
  cz::write_file(dir.path() + "/loop1.yaml", "include: [loop2.yaml]\nservices: {}\n");
  cz::write_file(dir.path() + "/loop2.yaml", "include: [loop1.yaml]\nservices: {}\n");
  cz::write_file(dir.path() + "/main.yaml", "include:\n  - loop1.yaml\nservices: {}\n");
  LoadOptions o;
  o.working_dir = dir.path();
  o.files = {"loop1.yaml"};
  auto r = load_project(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "loop2.yaml:1:11: include cycle: loop1.yaml -> loop2.yaml -> loop1.yaml");

  o.files = {"main.yaml"};
  r = load_project(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "loop2.yaml:1:11: include cycle: main.yaml -> loop1.yaml -> loop2.yaml -> loop1.yaml");

  // An error inside an included file still says where it was included from.
  cz::write_file(dir.path() + "/bad.yaml", "services:\n  web:\n    image: ${TAG:?TAG must be set}\n");
  cz::write_file(dir.path() + "/top.yaml", "include: [bad.yaml]\n");
  o.files = {"top.yaml"};
  r = load_project(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().rfind("top.yaml:1:11: include: bad.yaml:3:", 0), 0u)
      << r.error().message();
}

}  // namespace
}  // namespace stack::compose
