// Manifest, index and image-config parsing against JSON shaped like what
// registries serve (docker.io busybox's manifest list, an OCI image with
// attestations), platform selection and layer chain ids.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/image/manifest.h"

namespace stack::img {
namespace {

Digest dg(const std::string& hex) { return Digest{"sha256", hex}; }

// Modelled on `docker.io/library/busybox:latest` (a Docker manifest list).
const char* kBusyboxList = R"({
   "manifests": [
      {"digest": "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51",
       "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
       "platform": {"architecture": "amd64", "os": "linux"}, "size": 528},
      {"digest": "sha256:5b93ff5f5cd53074088b6155e5d584c4606f26fc75be9f3d0ca03a60e8d00d8c",
       "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
       "platform": {"architecture": "arm", "os": "linux", "variant": "v5"}, "size": 527},
      {"digest": "sha256:50b8c3e55c3365d624e7e10ae6a783d525e02b16924d4dcff0611f3e2544efaf",
       "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
       "platform": {"architecture": "arm", "os": "linux", "variant": "v6"}, "size": 527},
      {"digest": "sha256:5ba6c8710dd1369ce61603ab9b7a81b25f92d4a9f74956ab72a7ea75884f07ee",
       "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
       "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}, "size": 527},
      {"digest": "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265",
       "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
       "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}, "size": 527},
      {"digest": "sha256:15a26c6fa5151c712acc7ee45a1fd525ab85b801f096847c7d5fdf49efeabb4d",
       "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
       "platform": {"architecture": "386", "os": "linux"}, "size": 527},
      {"digest": "sha256:c92bb5907722b7ac701cea3606df516f5fe98c9f8380063df2d17d7d5db0bd05",
       "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
       "platform": {"architecture": "ppc64le", "os": "linux"}, "size": 528},
      {"digest": "sha256:77d3a5496288a2cd8724282d24f862ab1ea470f3aba13cadb9e3c105aaacf20b",
       "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
       "platform": {"architecture": "s390x", "os": "linux"}, "size": 528}
   ],
   "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
   "schemaVersion": 2
})";

// An OCI index as buildx pushes it: one image plus its attestation manifest.
const char* kOciIndexWithAttestation = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json",
     "digest": "sha256:c71552fa625c85369a49ae59904d8253f04c04d3dfaa60bfb8fef8b59f2e480e", "size": 1040,
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json",
     "digest": "sha256:35143e7a5239313ee73b81f2f99b785aaed42d9572d1f797dc19fa14aa6b081f", "size": 566,
     "annotations": {"vnd.docker.reference.digest": "sha256:c71552fa625c85369a49ae59904d8253f04c04d3dfaa60bfb8fef8b59f2e480e",
                     "vnd.docker.reference.type": "attestation-manifest"},
     "platform": {"architecture": "unknown", "os": "unknown"}}
  ]
})";

const char* kOciManifestJson = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
             "digest": "sha256:e67d23e7820c49a8051dac2831f38290f5e72f66c8db5079eeb60d82f14894c0", "size": 1472},
  "layers": [
    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
     "digest": "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740", "size": 3408729},
    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
     "digest": "sha256:8a1cee436cbac1489a1883c9d886fcfc46f302c55ed4106ae31729e4f4eb9041", "size": 32},
    {"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
     "digest": "sha256:10dacdccfe877dc064d57442e6fa7a4e3085dc94e11a29819c2290fc3d788724", "size": 1024}
  ],
  "annotations": {"org.opencontainers.image.created": "2024-01-27T00:00:00Z"}
})";

// Docker-built config (nulls where Docker writes them, sets as objects).
const char* kConfigJson = R"({
  "architecture": "arm64", "variant": "v8", "os": "linux",
  "created": "2024-01-27T00:30:48.743965523Z",
  "config": {
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_VERSION=20.11.0"],
    "Entrypoint": ["docker-entrypoint.sh"],
    "Cmd": ["node", "server.js"],
    "WorkingDir": "/app",
    "User": "node:node",
    "ExposedPorts": {"3000/tcp": {}, "9229/tcp": {}},
    "Volumes": {"/data": {}},
    "Labels": {"org.opencontainers.image.source": "https://example.com/app", "maintainer": "me"},
    "StopSignal": "SIGQUIT",
    "Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost:3000/ || exit 1"],
                    "Interval": 30000000000, "Timeout": 5000000000, "StartPeriod": 10000000000,
                    "StartInterval": 1000000000, "Retries": 3},
    "OnBuild": null, "Shell": null
  },
  "rootfs": {"type": "layers", "diff_ids": [
    "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740",
    "sha256:8a1cee436cbac1489a1883c9d886fcfc46f302c55ed4106ae31729e4f4eb9041"]},
  "history": [{"created": "2024-01-27T00:30:48Z", "created_by": "/bin/sh -c #(nop) ADD file:x in / "}]
})";

TEST(ParseIndex, DockerManifestList) {
  auto idx = parse_index(kBusyboxList);
  ASSERT_TRUE(idx) << idx.error().message();
  EXPECT_EQ(idx->media_type, media::kDockerList);
  ASSERT_EQ(idx->manifests.size(), 8u);
  EXPECT_EQ(idx->manifests[0].architecture, "amd64");
  EXPECT_EQ(idx->manifests[0].os, "linux");
  EXPECT_EQ(idx->manifests[0].size, 528);
  EXPECT_EQ(idx->manifests[0].media_type, media::kDockerManifest);
  EXPECT_EQ(idx->manifests[3].variant, "v7");
  EXPECT_TRUE(is_index_media_type(idx->media_type));
  EXPECT_FALSE(is_manifest_media_type(idx->media_type));
  auto not_manifest = parse_manifest(kBusyboxList);
  ASSERT_FALSE(not_manifest);
  EXPECT_NE(not_manifest.error().context.find("index"), std::string::npos);
}

TEST(ParseIndex, OciIndexWithAttestation) {
  auto idx = parse_index(kOciIndexWithAttestation);
  ASSERT_TRUE(idx) << idx.error().message();
  ASSERT_EQ(idx->manifests.size(), 2u);
  EXPECT_EQ(idx->manifests[1].annotations.at("vnd.docker.reference.type"), "attestation-manifest");
  auto d = select_platform(*idx, "linux", "amd64");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->digest.hex, "c71552fa625c85369a49ae59904d8253f04c04d3dfaa60bfb8fef8b59f2e480e");
  auto none = select_platform(*idx, "linux", "arm64");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().context.find("linux/amd64"), std::string::npos) << none.error().context;
  EXPECT_EQ(none.error().context.find("unknown"), std::string::npos) << "attestations are not platforms";
}

TEST(ParseManifest, OciManifest) {
  auto m = parse_manifest(kOciManifestJson);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->media_type, media::kOciManifest);
  EXPECT_EQ(m->config.media_type, media::kOciConfig);
  EXPECT_EQ(m->config.digest, dg("e67d23e7820c49a8051dac2831f38290f5e72f66c8db5079eeb60d82f14894c0"));
  EXPECT_EQ(m->config.size, 1472);
  ASSERT_EQ(m->layers.size(), 3u);
  EXPECT_EQ(m->layers[0].size, 3408729);
  EXPECT_EQ(m->layers[2].media_type, media::kOciLayerZstd);
  EXPECT_FALSE(parse_index(kOciManifestJson));
}

TEST(ParseManifest, MediaTypeFromContentTypeOrShape) {
  auto j = nlohmann::json::parse(kOciManifestJson);
  j.erase("mediaType");  // optional in OCI
  auto m = parse_manifest(j.dump());
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->media_type, media::kOciManifest);
  auto docker = parse_manifest(j.dump(), media::kDockerManifest);
  ASSERT_TRUE(docker);
  EXPECT_EQ(docker->media_type, media::kDockerManifest);
  EXPECT_FALSE(parse_manifest(j.dump(), "application/vnd.docker.distribution.manifest.v1+prettyjws"));
}

TEST(ParseManifest, ErrorsNameTheField) {
  auto with = [](const std::function<void(nlohmann::json&)>& edit) {
    auto j = nlohmann::json::parse(kOciManifestJson);
    edit(j);
    return parse_manifest(j.dump());
  };
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::string want;
  };
  std::vector<Case> cases = {
      {[](auto& j) { j["layers"][2]["digest"] = "x"; }, "manifest: layers[2].digest: invalid digest \"x\""},
      {[](auto& j) { j["layers"][1].erase("size"); }, "manifest: layers[1].size: missing"},
      {[](auto& j) { j["layers"][0]["size"] = "big"; }, "manifest: layers[0].size: not an integer"},
      {[](auto& j) { j["config"]["digest"] = "sha256:abc"; }, "manifest: config.digest: invalid digest"},
      {[](auto& j) { j.erase("config"); }, "manifest: config: missing"},
      {[](auto& j) { j["layers"] = "nope"; }, "manifest: layers: not an array"},
      {[](auto& j) { j["schemaVersion"] = 1; }, "schemaVersion: 1"},
      {[](auto& j) { j["layers"][0] = 5; }, "layers[0]: not an object"},
  };
  for (const auto& c : cases) {
    auto m = with(c.edit);
    ASSERT_FALSE(m) << c.want;
    EXPECT_NE(m.error().context.find(c.want), std::string::npos) << m.error().context;
  }
  auto bad = parse_manifest("{not json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().context.find("invalid JSON"), std::string::npos);
  EXPECT_FALSE(parse_manifest("[]"));
  auto idx = parse_index(R"({"schemaVersion":2,"manifests":[{"digest":"sha256:zz","size":1}]})");
  ASSERT_FALSE(idx);
  EXPECT_NE(idx.error().context.find("index: manifests[0].digest: invalid digest"), std::string::npos)
      << idx.error().context;
}

TEST(ParseImageConfig, ReadsWhatTheRuntimeNeeds) {
  auto c = parse_image_config(kConfigJson);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->os, "linux");
  EXPECT_EQ(c->architecture, "arm64");
  EXPECT_EQ(c->variant, "v8");
  EXPECT_EQ(c->created, "2024-01-27T00:30:48.743965523Z");
  EXPECT_EQ(c->entrypoint, std::vector<std::string>{"docker-entrypoint.sh"});
  EXPECT_EQ(c->cmd, (std::vector<std::string>{"node", "server.js"}));
  ASSERT_EQ(c->env.size(), 2u);
  EXPECT_EQ(c->env[1], "NODE_VERSION=20.11.0");
  EXPECT_EQ(c->working_dir, "/app");
  EXPECT_EQ(c->user, "node:node");
  EXPECT_EQ(c->stop_signal, "SIGQUIT");
  EXPECT_EQ(c->exposed_ports, (std::vector<std::string>{"3000/tcp", "9229/tcp"}));
  EXPECT_EQ(c->volumes, std::vector<std::string>{"/data"});
  EXPECT_EQ(c->labels.at("maintainer"), "me");
  ASSERT_TRUE(c->healthcheck);
  EXPECT_EQ(c->healthcheck->test[0], "CMD-SHELL");
  EXPECT_EQ(c->healthcheck->interval_ns, 30000000000);
  EXPECT_EQ(c->healthcheck->timeout_ns, 5000000000);
  EXPECT_EQ(c->healthcheck->start_period_ns, 10000000000);
  EXPECT_EQ(c->healthcheck->start_interval_ns, 1000000000);
  EXPECT_EQ(c->healthcheck->retries, 3);
  ASSERT_EQ(c->diff_ids.size(), 2u);
  EXPECT_EQ(c->diff_ids[1], dg("8a1cee436cbac1489a1883c9d886fcfc46f302c55ed4106ae31729e4f4eb9041"));
}

TEST(ParseImageConfig, NullsAndAbsentFieldsAreEmpty) {
  auto c = parse_image_config(R"({"architecture":"amd64","os":"linux","config":{"Entrypoint":null,"Cmd":null,
      "Env":null,"ExposedPorts":null,"Labels":null},"rootfs":{"type":"layers","diff_ids":[]}})");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->entrypoint.empty());
  EXPECT_TRUE(c->cmd.empty());
  EXPECT_FALSE(c->healthcheck);
  EXPECT_TRUE(parse_image_config("{}"));
}

TEST(ParseImageConfig, ErrorsNameTheField) {
  auto a = parse_image_config(R"({"config":{"Cmd":"sh"}})");
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().context.find("config.Cmd"), std::string::npos) << a.error().context;
  auto b = parse_image_config(R"({"rootfs":{"diff_ids":["sha256:bad"]}})");
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().context.find("rootfs.diff_ids[0]"), std::string::npos) << b.error().context;
  auto c = parse_image_config(R"({"config":{"Healthcheck":{"Retries":"3"}}})");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().context.find("config.Healthcheck.Retries"), std::string::npos) << c.error().context;
}

TEST(ImageConfigToJson, RoundTrips) {
  auto c = parse_image_config(kConfigJson);
  ASSERT_TRUE(c);
  std::string out = image_config_to_json(*c);
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["rootfs"]["type"], "layers");
  EXPECT_TRUE(j["config"]["ExposedPorts"].contains("3000/tcp"));
  auto back = parse_image_config(out);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->entrypoint, c->entrypoint);
  EXPECT_EQ(back->cmd, c->cmd);
  EXPECT_EQ(back->env, c->env);
  EXPECT_EQ(back->working_dir, c->working_dir);
  EXPECT_EQ(back->user, c->user);
  EXPECT_EQ(back->stop_signal, c->stop_signal);
  EXPECT_EQ(back->exposed_ports, c->exposed_ports);
  EXPECT_EQ(back->volumes, c->volumes);
  EXPECT_EQ(back->labels, c->labels);
  ASSERT_TRUE(back->healthcheck);
  EXPECT_EQ(back->healthcheck->test, c->healthcheck->test);
  EXPECT_EQ(back->healthcheck->interval_ns, c->healthcheck->interval_ns);
  EXPECT_EQ(back->healthcheck->start_interval_ns, c->healthcheck->start_interval_ns);
  EXPECT_EQ(back->healthcheck->retries, c->healthcheck->retries);
  EXPECT_EQ(back->diff_ids, c->diff_ids);
  EXPECT_EQ(back->os, c->os);
  EXPECT_EQ(back->architecture, c->architecture);
  EXPECT_EQ(back->variant, c->variant);
  EXPECT_EQ(back->created, c->created);
}

TEST(SelectPlatform, PicksLikeContainerd) {
  auto idx = parse_index(kBusyboxList);
  ASSERT_TRUE(idx);
  auto pick = [&](const std::string& arch, const std::string& variant = "") {
    auto d = select_platform(*idx, "linux", arch, variant);
    EXPECT_TRUE(d) << arch << "/" << variant << ": " << (d ? "" : d.error().message());
    return d ? d->digest.hex : std::string();
  };
  EXPECT_EQ(pick("amd64"), "5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51");
  EXPECT_EQ(pick("x86_64"), "5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51");
  // arm64 without a variant matches the v8 entry (v8 is arm64's default).
  EXPECT_EQ(pick("arm64"), "f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265");
  EXPECT_EQ(pick("aarch64", "v8"), "f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265");
  // Exact variants, and plain "arm" means v7.
  EXPECT_EQ(pick("arm", "v6"), "50b8c3e55c3365d624e7e10ae6a783d525e02b16924d4dcff0611f3e2544efaf");
  EXPECT_EQ(pick("arm", "v5"), "5b93ff5f5cd53074088b6155e5d584c4606f26fc75be9f3d0ca03a60e8d00d8c");
  EXPECT_EQ(pick("arm"), "5ba6c8710dd1369ce61603ab9b7a81b25f92d4a9f74956ab72a7ea75884f07ee");
  EXPECT_EQ(pick("s390x"), "77d3a5496288a2cd8724282d24f862ab1ea470f3aba13cadb9e3c105aaacf20b");
  // The host's architecture by default.
  auto host = select_platform(*idx);
  if (host_architecture() == "amd64") {
    ASSERT_TRUE(host);
    EXPECT_EQ(host->architecture, "amd64");
  }
}

TEST(SelectPlatform, ArmFallsBackToOlderVariants) {
  auto idx = parse_index(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"digest":"sha256:50b8c3e55c3365d624e7e10ae6a783d525e02b16924d4dcff0611f3e2544efaf","size":1,
     "platform":{"os":"linux","architecture":"arm","variant":"v6"}}]})");
  ASSERT_TRUE(idx) << idx.error().message();
  EXPECT_TRUE(select_platform(*idx, "linux", "arm", "v7")) << "a v7 CPU runs v6 code";
  EXPECT_FALSE(select_platform(*idx, "linux", "arm", "v5")) << "a v5 CPU cannot run v6 code";
}

TEST(SelectPlatform, MissingPlatformListsWhatIsAvailable) {
  auto idx = parse_index(kBusyboxList);
  ASSERT_TRUE(idx);
  auto d = select_platform(*idx, "windows", "amd64");
  ASSERT_FALSE(d);
  const auto& msg = d.error().context;
  EXPECT_NE(msg.find("windows/amd64"), std::string::npos) << msg;
  for (const char* p : {"linux/amd64", "linux/arm/v5", "linux/arm/v7", "linux/arm64", "linux/s390x"})
    EXPECT_NE(msg.find(p), std::string::npos) << p << " in " << msg;
  EXPECT_FALSE(select_platform(*idx, "linux", "riscv64"));
}

TEST(HostArchitecture, UsesGoNames) {
  std::string a = host_architecture();
  EXPECT_FALSE(a.empty());
  EXPECT_NE(a, "x86_64");
  EXPECT_NE(a, "aarch64");
}

TEST(ChainIds, FollowTheOciDefinition) {
  Digest a = sha256_of("layer a"), b = sha256_of("layer b"), c = sha256_of("layer c");
  EXPECT_TRUE(chain_ids({}).empty());
  auto ids = chain_ids({a, b, c});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], a);
  Digest ab = sha256_of(a.string() + " " + b.string());
  EXPECT_EQ(ids[1], ab);
  EXPECT_EQ(ids[2], sha256_of(ab.string() + " " + c.string()));
  // A known value, computed independently (sha256sum of the joined string).
  Digest l1 = dg("2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740");
  Digest l2 = dg("8a1cee436cbac1489a1883c9d886fcfc46f302c55ed4106ae31729e4f4eb9041");
  EXPECT_EQ(chain_ids({l1, l2})[1].hex, "309581fa63d7e85c25cc33a8312eb1834497f8c53be119b23e78a71e21e00e36");
}

// CVE-2021-41190 at the parser (tests/integration/cve_registry_test.cc pulls
// the same documents from a stub registry): one document must not be
// readable both as a manifest and as an index.
TEST(ParseManifest, RefusesAmbiguousAndMislabelledDocuments) {
  auto m = nlohmann::json::parse(kOciManifestJson);
  auto both = m;
  both["manifests"] = nlohmann::json::array();
  EXPECT_FALSE(parse_manifest(both.dump()));
  both.erase("mediaType");
  EXPECT_FALSE(parse_manifest(both.dump(), media::kOciManifest));
  EXPECT_FALSE(parse_index(both.dump(), media::kOciIndex));
  auto mislabelled = parse_manifest(m.dump(), media::kDockerManifest);
  ASSERT_FALSE(mislabelled);
  EXPECT_NE(mislabelled.error().message().find("does not match the Content-Type"), std::string::npos);
  auto idx = nlohmann::json::parse(kOciIndexWithAttestation);
  EXPECT_TRUE(parse_index(idx.dump(), media::kOciIndex));
  EXPECT_FALSE(parse_index(idx.dump(), media::kDockerList));
  idx["config"] = m["config"];
  EXPECT_FALSE(parse_index(idx.dump()));
}

}  // namespace
}  // namespace stack::img
