// Several -f files, !reset/!override, extends and include.
#include <gtest/gtest.h>

#include "compose_test_util.h"

namespace stack::compose {
namespace {

using cz::write_file;

struct Files {
  stack::test::TempDir dir{"compose-merge"};
  std::string path(const std::string& name) const { return dir.path() + "/" + name; }
  stack::Result<LoadResult> load(std::vector<std::string> files, LoadOptions o = {}) {
    o.files = std::move(files);
    o.working_dir = dir.path();
    return load_project(o);
  }
};

TEST(ComposeMerge, OverrideFileMergesAsCompose) {
  Files f;
  write_file(f.path("base.yaml"), R"(
services:
  web:
    image: nginx:1
    command: ["nginx", "-g", "daemon off;"]
    environment: [A=1, B=2]
    labels: {team: a}
    ports: ["80:80", "443:443"]
    expose: ["3000"]
    volumes: ["data:/data", "./conf:/etc/conf:ro"]
    dns: [1.1.1.1]
volumes:
  data: {}
)");
  write_file(f.path("over.yaml"), R"(
services:
  web:
    image: nginx:2
    command: nginx -T
    environment:
      B: two
      C: "3"
    labels: [tier=front]
    ports: ["443:443", "8080:80"]
    expose: ["3001"]
    volumes: ["./other:/etc/conf"]
    dns: [1.1.1.1, 8.8.8.8]
)");
  auto r = f.load({"base.yaml", "over.yaml"});
  ASSERT_TRUE(r) << r.error().message();
  auto& web = r->project.services.at("web");
  EXPECT_EQ(web.image, "nginx:2");
  EXPECT_EQ(web.command, (std::vector<std::string>{"nginx", "-T"}));
  EXPECT_EQ(web.environment, (std::map<std::string, std::string>{{"A", "1"}, {"B", "two"}, {"C", "3"}}));
  EXPECT_EQ(web.labels, (std::map<std::string, std::string>{{"team", "a"}, {"tier", "front"}}));
  ASSERT_EQ(web.ports.size(), 3u);
  EXPECT_EQ(web.ports[2].published, 8080);
  EXPECT_EQ(web.expose, (std::vector<std::string>{"3000", "3001"}));
  ASSERT_EQ(web.volumes.size(), 2u);  // /etc/conf replaced in place
  EXPECT_EQ(web.volumes[1].source, f.path("other"));
  EXPECT_FALSE(web.volumes[1].read_only);
  EXPECT_EQ(web.dns, (std::vector<std::string>{"1.1.1.1", "8.8.8.8"}));
  EXPECT_EQ(r->project.files, (std::vector<std::string>{f.path("base.yaml"), f.path("over.yaml")}));
  EXPECT_EQ(r->project.name, "base");
}

TEST(ComposeMerge, ResetAndOverrideTags) {
  Files f;
  write_file(f.path("a.yaml"), R"(
services:
  web:
    image: nginx
    ports: ["80:80"]
    environment: {A: "1", B: "2"}
    healthcheck: {test: ["CMD", "true"], interval: 5s}
  worker:
    image: busybox
)");
  write_file(f.path("b.yaml"), R"(
services:
  web:
    ports: !reset []
    environment: !override {C: "3"}
    healthcheck: !reset
  worker: !reset
)");
  auto r = f.load({"a.yaml", "b.yaml"});
  ASSERT_TRUE(r) << r.error().message();
  auto& web = r->project.services.at("web");
  EXPECT_TRUE(web.ports.empty());
  EXPECT_EQ(web.environment, (std::map<std::string, std::string>{{"C", "3"}}));
  EXPECT_FALSE(web.healthcheck.has_value());
  EXPECT_EQ(r->project.services.count("worker"), 0u);
}

TEST(ComposeMerge, OverrideTagOnSequenceAndExtendsAppendsPorts) {
  Files f;
  write_file(f.path("a.yaml"), R"(
services:
  base:
    image: x
    ports: ["80:80"]
  web:
    extends: base
    ports: ["81:80"]
)");
  write_file(f.path("b.yaml"), "services:\n  base:\n    ports: !override [\"90:90\"]\n");
  auto r = f.load({"a.yaml", "b.yaml"});
  ASSERT_TRUE(r) << r.error().message();
  auto& base = r->project.services.at("base").ports;
  ASSERT_EQ(base.size(), 1u);
  EXPECT_EQ(base[0].published, 90);
  auto& web = r->project.services.at("web").ports;  // extends resolved per file, before the merge
  ASSERT_EQ(web.size(), 2u);
  EXPECT_EQ(web[0].published, 80);
  EXPECT_EQ(web[1].published, 81);
}

TEST(ComposeMerge, ExtendsSameFileAndOtherFile) {
  Files f;
  write_file(f.path("common.yaml"), R"(
services:
  base:
    image: busybox
    env_file: common.env
    environment: {LEVEL: info}
    volumes: ["./shared:/shared"]
)");
  write_file(f.path("common.env"), "FROM_FILE=yes\n");
  std::filesystem::create_directories(f.path("app"));
  write_file(f.path("app/stack.yaml"), R"(
services:
  tmpl:
    extends: {file: ../common.yaml, service: base}
    command: ["sleep", "1"]
  web:
    extends: tmpl
    environment: {LEVEL: debug}
    ports: ["80:80"]
)");
  auto r = f.load({"app/stack.yaml"});
  ASSERT_TRUE(r) << r.error().message();
  auto& web = r->project.services.at("web");
  EXPECT_EQ(web.image, "busybox");
  EXPECT_EQ(web.command, (std::vector<std::string>{"sleep", "1"}));
  EXPECT_EQ(web.environment.at("LEVEL"), "debug");
  EXPECT_EQ(web.environment.at("FROM_FILE"), "yes");
  ASSERT_EQ(web.volumes.size(), 1u);
  EXPECT_EQ(web.volumes[0].source, f.path("shared"));  // relative to common.yaml, not app/
  EXPECT_EQ(r->project.name, "stack");
  EXPECT_EQ(r->project.working_dir, f.path("app"));
}

TEST(ComposeMerge, ExtendsErrors) {
  EXPECT_EQ(cz::load_error("services:\n  a:\n    extends: b\n    image: x\n  b:\n    extends: a\n"),
            "stack.yaml:3:14: services.a.extends: extends cycle: a -> b -> a");
  EXPECT_EQ(cz::load_error("services:\n  a:\n    image: x\n    extends: nope\n"),
            "stack.yaml:4:14: services.a.extends: extends unknown service \"nope\"");
}

TEST(ComposeMerge, IncludeShortAndLongForm) {
  Files f;
  std::filesystem::create_directories(f.path("db"));
  write_file(f.path("db/compose.yaml"), R"(
services:
  db:
    image: postgres:${PG_TAG:-15}
    volumes: ["pgdata:/var/lib/postgresql/data", "./init:/docker-entrypoint-initdb.d"]
volumes:
  pgdata: {}
)");
  write_file(f.path("cache.yaml"), "services:\n  cache:\n    image: redis:${REDIS_TAG}\n");
  write_file(f.path("cache.env"), "REDIS_TAG=7\n");
  write_file(f.path("main.yaml"), R"(
include:
  - db/compose.yaml
  - path: cache.yaml
    env_file: cache.env
services:
  web:
    image: nginx
    depends_on: [db, cache]
)");
  auto r = f.load({"main.yaml"});
  ASSERT_TRUE(r) << r.error().message();
  auto& p = r->project;
  EXPECT_EQ(p.services.at("db").image, "postgres:15");
  EXPECT_EQ(p.services.at("cache").image, "redis:7");
  EXPECT_EQ(p.volumes.count("pgdata"), 1u);
  EXPECT_EQ(p.services.at("db").volumes.at(1).source, f.path("db/init"));
  EXPECT_EQ(p.services.at("web").depends_on.size(), 2u);
}

TEST(ComposeMerge, IncludeConflictAndCycle) {
  Files f;
  write_file(f.path("inc.yaml"), "services:\n  web:\n    image: a\n");
  write_file(f.path("main.yaml"), "include: [inc.yaml]\nservices:\n  web:\n    image: b\n");
  auto r = f.load({"main.yaml"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("main.yaml:3:3: services.web: also defined in included file inc.yaml"),
            std::string::npos)
      << r.error().message();
  write_file(f.path("loop1.yaml"), "include: [loop2.yaml]\nservices: {}\n");
  write_file(f.path("loop2.yaml"), "include: [loop1.yaml]\nservices: {}\n");
  auto c = f.load({"loop1.yaml"});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("cycle"), std::string::npos) << c.error().message();
}

TEST(ComposeMerge, DefaultFileLookupWithOverrideAndDirectoryName) {
  Files f;
  std::filesystem::create_directories(f.path("My Shop"));
  write_file(f.path("My Shop/compose.yaml"), "services:\n  web:\n    image: nginx\n    ports: [\"80:80\"]\n");
  write_file(f.path("My Shop/compose.override.yaml"), "services:\n  web:\n    ports: [\"81:80\"]\n");
  LoadOptions o;
  o.working_dir = f.path("My Shop");
  auto r = load_project(o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->project.name, "myshop");
  EXPECT_EQ(r->project.files.size(), 2u);
  EXPECT_EQ(r->project.services.at("web").ports.size(), 2u);

  LoadOptions empty;
  empty.working_dir = f.dir.path();
  auto none = load_project(empty);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("tried compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml"),
            std::string::npos);
}

TEST(ComposeMerge, ProjectNamePrecedence) {
  Files f;
  write_file(f.path("Juice-Shop.yaml"), "services:\n  web:\n    image: x\n");
  write_file(f.path("named.yaml"), "name: From_File\nservices:\n  web:\n    image: x\n");
  EXPECT_EQ(f.load({"Juice-Shop.yaml"})->project.name, "juice-shop");
  LoadOptions p;
  p.project_name = "cli";
  EXPECT_EQ(f.load({"Juice-Shop.yaml"}, p)->project.name, "cli");
  EXPECT_EQ(f.load({"named.yaml"}, p)->project.name, "from_file");
  LoadOptions bad;
  bad.project_name = "!!!";
  auto r = f.load({"Juice-Shop.yaml"}, bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("\"!!!\" (from -p)"), std::string::npos);
}

}  // namespace
}  // namespace stack::compose
