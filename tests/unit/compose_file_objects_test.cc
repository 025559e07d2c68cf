// Secrets and configs (orchestrator/compose/file_objects.h): what the loader
// reads and refuses, where each lands in the container, what travels in the
// project's JSON and what is shown, and that the bytes count in config_hash.
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "compose_test_util.h"
#include "orchestrator/compose/file_objects.h"
#include "orchestrator/compose/serialize.h"
#include "orchestrator/daemon/engine/stack_spec.h"

namespace stack::compose {
namespace {

struct Files {
  test::TempDir dir;
  LoadOptions opts() const {
    LoadOptions o;
    o.working_dir = dir.path();
    o.environment = {{"TLS_KEY", "key-from-env"}};
    return o;
  }
};

const char* kStack = R"(services:
  web:
    image: busybox
    secrets:
      - db_password
      - source: tls
        target: tls.key
        uid: "33"
        gid: "44"
        mode: 0400
    configs:
      - app
      - source: app
        target: /etc/app/app.conf
secrets:
  db_password:
    file: ./db.txt
  tls:
    environment: TLS_KEY
  unused:
    file: ./not-there.txt
configs:
  app:
    content: |
      port=80
)";

TEST(ComposeFileObjects, TheLoaderReadsWhatServicesUseAndPlacesEachAsDockerDoes) {
  Files f;
  cz::write_file(f.dir.path() + "/db.txt", "s3cret\n");
  auto r = cz::load_yaml(kStack, f.opts());
  ASSERT_TRUE(r) << r.error().message();
  const Project& p = r->project;
  EXPECT_EQ(p.secrets.at("db_password").data.value_or("?"), "s3cret\n");
  EXPECT_EQ(p.secrets.at("tls").data.value_or("?"), "key-from-env");
  EXPECT_FALSE(p.secrets.at("unused").data) << "an unused definition is not read";
  EXPECT_EQ(p.configs.at("app").data.value_or("?"), "port=80\n");

  auto files = service_files(p, p.services.at("web"));
  ASSERT_TRUE(files) << files.error().message();
  ASSERT_EQ(files->size(), 4u);
  EXPECT_EQ((*files)[0].target, "/run/secrets/db_password");
  EXPECT_EQ((*files)[0].mode, 0444u);
  EXPECT_EQ((*files)[0].uid, 0u);
  EXPECT_EQ((*files)[1].target, "/run/secrets/tls.key");
  EXPECT_EQ((*files)[1].uid, 33u);
  EXPECT_EQ((*files)[1].gid, 44u);
  EXPECT_EQ((*files)[1].mode, 0400u);
  EXPECT_TRUE((*files)[1].secret);
  EXPECT_EQ((*files)[2].target, "/app");
  EXPECT_FALSE((*files)[2].secret);
  EXPECT_EQ((*files)[3].target, "/etc/app/app.conf");
  EXPECT_EQ((*files)[3].data, "port=80\n");
}

TEST(ComposeFileObjects, ConfigLoadsChecksReferencesButReadsNothing) {
  Files f;  // no db.txt
  LoadOptions o = f.opts();
  o.read_file_data = false;
  auto r = cz::load_yaml(kStack, o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->project.secrets.at("db_password").data);
  // Without the bytes stackd refuses it, naming the reference.
  auto files = service_files(r->project, r->project.services.at("web"));
  ASSERT_FALSE(files);
  EXPECT_EQ(files.error().message(),
            "services.web.secrets[0]: secret \"db_password\" came without its data (sent by a stack CLI older than "
            "stackd?)");
}

TEST(ComposeFileObjects, BadDefinitionsAndReferencesAreRefusedAtTheirLine) {
  Files f;
  cz::write_file(f.dir.path() + "/db.txt", "x");
  LoadOptions o = f.opts();
  EXPECT_EQ(cz::load_error("services:\n  web:\n    image: busybox\n    secrets: [nope]\n", o),
            "stack.yaml:4:15: services.web.secrets[0]: undefined secret \"nope\"");
  EXPECT_EQ(cz::load_error("services:\n  web:\n    image: busybox\n    configs: [nope]\n", o),
            "stack.yaml:4:15: services.web.configs[0]: undefined config \"nope\"");
  EXPECT_EQ(cz::load_error("services:\n  web:\n    image: busybox\n    secrets: [s]\n"
                           "secrets:\n  s:\n    file: ./missing.txt\n",
                           o),
            "stack.yaml:7:11: secrets.s.file: " + f.dir.path() + "/missing.txt: No such file or directory");
  EXPECT_EQ(cz::load_error("services:\n  web:\n    image: busybox\n    secrets: [s]\n"
                           "secrets:\n  s:\n    environment: NOT_SET_ANYWHERE\n",
                           o),
            "stack.yaml:7:18: secrets.s.environment: variable \"NOT_SET_ANYWHERE\" is not set");
  EXPECT_EQ(cz::load_error("services:\n  web:\n    image: busybox\n    secrets: [s]\n"
                           "secrets:\n  s:\n    external: true\n",
                           o),
            "stack.yaml:7:15: secrets.s.external: external secrets are not supported: stack keeps no secrets of "
            "its own; give it a file:, environment: or content:");
  EXPECT_EQ(cz::load_error("services:\n  web:\n    image: busybox\n    secrets:\n      - source: s\n"
                           "        target: ../../etc/shadow\nsecrets:\n  s:\n    file: ./db.txt\n",
                           o),
            "stack.yaml:5:9: services.web.secrets[0].target: \"../../etc/shadow\" is not a plain file path");
  EXPECT_EQ(cz::load_error("services:\n  web:\n    image: busybox\n    secrets:\n      - source: s\n"
                           "        uid: www\nsecrets:\n  s:\n    file: ./db.txt\n",
                           o),
            "stack.yaml:5:9: services.web.secrets[0].uid: \"www\" is not a numeric user id");
  EXPECT_EQ(cz::load_error("services:\n  web:\n    image: busybox\n    secrets:\n      - s\n      - source: s\n"
                           "        target: /run/secrets/s\nsecrets:\n  s:\n    file: ./db.txt\n",
                           o),
            "stack.yaml:6:9: services.web.secrets[1].target: /run/secrets/s is the target of another secret or "
            "config");
  std::filesystem::resize_file(f.dir.path() + "/db.txt", kMaxSecretBytes + 1);
  EXPECT_EQ(cz::load_error("services:\n  web:\n    image: busybox\n    secrets: [s]\nsecrets:\n  s:\n    file: ./db.txt\n",
                           o),
            "stack.yaml:7:11: secrets.s.file: " + f.dir.path() + "/db.txt is 512001 bytes; at most 512000 are allowed");
}

TEST(ComposeFileObjects, BytesTravelInTheJsonAndAreNeverShown) {
  Files f;
  std::string binary("\x00\xff\xfe secret\n", 10);
  cz::write_file(f.dir.path() + "/db.txt", binary);
  auto r = cz::load_yaml(kStack, f.opts());
  ASSERT_TRUE(r) << r.error().message();
  auto back = project_from_json(to_json(r->project));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->secrets.at("db_password").data.value_or("?"), binary);
  EXPECT_EQ(to_yaml(r->project).find("key-from-env"), std::string::npos);
  EXPECT_EQ(to_yaml(r->project).find("data"), std::string::npos);
  std::string shown = to_json(without_file_data(r->project));
  EXPECT_EQ(shown.find("a2V5LWZyb20tZW52"), std::string::npos);  // base64 of key-from-env
  EXPECT_NE(to_json(r->project).find("a2V5LWZyb20tZW52"), std::string::npos);
  // A project stored before `data` existed still loads.
  auto j = nlohmann::json::parse(to_json(r->project));
  for (auto& [k, d] : j["secrets"].items()) d.erase("data");
  auto old = project_from_json(j.dump());
  ASSERT_TRUE(old) << old.error().message();
  EXPECT_FALSE(old->secrets.at("db_password").data);
}

TEST(ComposeFileObjects, ChangedBytesChangeTheConfigHashAndNoFilesKeepIt) {
  Files f;
  cz::write_file(f.dir.path() + "/db.txt", "one");
  auto a = cz::load_yaml(kStack, f.opts());
  cz::write_file(f.dir.path() + "/db.txt", "two");
  auto b = cz::load_yaml(kStack, f.opts());
  ASSERT_TRUE(a && b);
  const Service& web = a->project.services.at("web");
  EXPECT_NE(orch::config_hash(web, &a->project), orch::config_hash(b->project.services.at("web"), &b->project));
  EXPECT_EQ(orch::config_hash(web, &a->project), orch::config_hash(web, &a->project));
  // A service without secrets or configs hashes as before they existed.
  Service plain = web;
  plain.secrets.clear();
  plain.configs.clear();
  EXPECT_EQ(orch::config_hash(plain, &a->project), orch::config_hash(plain));
}

}  // namespace
}  // namespace stack::compose
