// CVE-2021-41190 (OCI distribution/image-spec, containerd, moby): a registry
// document whose kind is ambiguous. The same bytes (one digest) with both an
// index's "manifests" and a manifest's "config"/"layers", or a "mediaType"
// that disagrees with the Content-Type it is served with, can be read as two
// different images by two clients, so a digest that was reviewed or signed
// as one image runs as another. The fix everywhere: the declared mediaType
// must agree with the Content-Type, a manifest must not carry "manifests",
// an index must not carry "config" or "layers". And, as ever, every byte
// served for a digest (manifest, config, layer) must hash to that digest.
//
// Each test first shows the attack working against a naive reading of the
// same bytes (the positive control), then pulls through our registry client
// from a stub registry on 127.0.0.1 (tests/support/http_stub.h) and checks
// what a user sees: an error naming the problem, and nothing stored or tagged.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/image/manifest.h"
#include "runtime/image/registry.h"
#include "runtime/image/store.h"
#include "tests/support/bundle.h"
#include "tests/support/http_stub.h"
#include "tests/support/tar_builder.h"

namespace stack::test {
namespace {

using namespace stack::img;
using json = nlohmann::json;

// One single-layer image as blobs: a layer holding /marker, its config and
// an OCI manifest naming both.
struct Image {
  std::string layer, config, manifest;
  Digest layer_d, config_d, manifest_d;
};

Image make_image(const std::string& marker) {
  TarBuilder t;
  t.file("marker", marker + "\n");
  Image i;
  i.layer = t.bytes();
  i.layer_d = sha256_of(i.layer);
  i.config = json{{"architecture", host_architecture()},
                  {"os", "linux"},
                  {"config", {{"Cmd", {"/marker"}}}},
                  {"rootfs", {{"type", "layers"}, {"diff_ids", {i.layer_d.string()}}}}}
                 .dump();
  i.config_d = sha256_of(i.config);
  i.manifest = json{{"schemaVersion", 2},
                    {"mediaType", media::kOciManifest},
                    {"config", {{"mediaType", media::kOciConfig}, {"digest", i.config_d.string()},
                                {"size", i.config.size()}}},
                    {"layers", {{{"mediaType", media::kOciLayerTar}, {"digest", i.layer_d.string()},
                                 {"size", i.layer.size()}}}}}
                   .dump();
  i.manifest_d = sha256_of(i.manifest);
  return i;
}

HttpStub::Response doc(const std::string& body, const std::string& content_type) {
  return {200, {{"Content-Type", content_type}}, body};
}

class CVE_2021_41190 : public ::testing::Test {
 protected:
  TempDir tmp_{"stack-cve-41190"};
  HttpStub reg_;
  Image good_ = make_image("good"), evil_ = make_image("evil");

  void SetUp() override {
    ASSERT_NE(reg_.port(), 0) << "the stub registry could not listen on 127.0.0.1";
    reg_.set("/v2/", doc("{}", "application/json"));
    for (const Image* i : {&good_, &evil_}) {
      serve_blob(i->layer_d, i->layer);
      serve_blob(i->config_d, i->config);
      reg_.set("/v2/app/manifests/" + i->manifest_d.string(), doc(i->manifest, media::kOciManifest));
    }
  }
  void serve_blob(const Digest& d, const std::string& bytes) {
    reg_.set("/v2/app/blobs/" + d.string(), {200, {{"Content-Type", "application/octet-stream"}}, bytes});
  }
  Reference ref(const std::string& tag_or_digest) {
    std::string sep = tag_or_digest.rfind("sha256:", 0) == 0 ? "@" : ":";
    auto r = parse_reference(reg_.host() + "/app" + sep + tag_or_digest);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : Reference{};
  }
  // Pulls into a fresh store; on failure also checks that nothing of the
  // refused image became content or a name.
  Result<Digest> pull_fresh(const std::string& tag_or_digest, const std::vector<Digest>& must_not_store = {}) {
    auto store = ContentStore::open(tmp_.path() + "/store-" + unique_id("s"));
    EXPECT_TRUE(store) << store.error().message();
    RegistryConfig cfg;
    cfg.auth_file = tmp_.path() + "/docker-config.json";  // never the user's own
    cfg.retries = 0;
    Reference r = ref(tag_or_digest);
    auto got = pull(r, *store, cfg);
    if (!got) {
      std::printf("  refused: %s\n", got.error().message().c_str());
      EXPECT_FALSE(store->get_ref(r)) << "a refused pull still set the tag";
      for (const auto& d : must_not_store) EXPECT_FALSE(store->has_blob(d)) << d.string() << " was stored";
    }
    return got;
  }
};

// What a client that trusts the Content-Type and the document's shape alone
// gets from `body`: the layer digests of the image it would run.
std::vector<std::string> naive_layers(const std::string& body, const std::string& content_type,
                                      const std::map<std::string, std::string>& manifests) {
  json j = json::parse(body);
  if (is_index_media_type(content_type)) {
    j = json::parse(manifests.at(j["manifests"][0]["digest"].get<std::string>()));
  }
  std::vector<std::string> out;
  for (auto& l : j["layers"]) out.push_back(l["digest"].get<std::string>());
  return out;
}

TEST_F(CVE_2021_41190, AnAmbiguousManifestIndexIsRefused) {
  // One document, one digest: as an index it points at the good image, as a
  // manifest it is the evil one.
  json amb = json::parse(evil_.manifest);
  amb.erase("mediaType");
  amb["manifests"] = {{{"mediaType", media::kOciManifest}, {"digest", good_.manifest_d.string()},
                       {"size", good_.manifest.size()},
                       {"platform", {{"os", "linux"}, {"architecture", host_architecture()}}}}};
  const std::string body = amb.dump();
  const Digest amb_d = sha256_of(body);

  // Positive control: the naive reading yields two different images for amb_d.
  std::map<std::string, std::string> known = {{good_.manifest_d.string(), good_.manifest}};
  auto as_index = naive_layers(body, media::kOciIndex, known);
  auto as_manifest = naive_layers(body, media::kOciManifest, known);
  ASSERT_EQ(as_index, std::vector<std::string>{good_.layer_d.string()});
  ASSERT_EQ(as_manifest, std::vector<std::string>{evil_.layer_d.string()});

  // Ours: refused whichever Content-Type it comes with, and when the type is
  // left to the document (application/json); by tag and by digest.
  for (const char* ct : {media::kOciIndex, media::kOciManifest, "application/json"}) {
    SCOPED_TRACE(ct);
    reg_.set("/v2/app/manifests/amb", doc(body, ct));
    reg_.set("/v2/app/manifests/" + amb_d.string(), doc(body, ct));
    for (const std::string& r : {std::string("amb"), amb_d.string()}) {
      auto got = pull_fresh(r, {amb_d, evil_.layer_d, evil_.config_d, good_.layer_d});
      ASSERT_FALSE(got) << "pulled " << r << " as " << got->string();
      EXPECT_NE(got.error().message().find("ambiguous document"), std::string::npos) << got.error().message();
    }
  }
  // The stub itself serves a consistent image: the refusals are about the document.
  reg_.set("/v2/app/manifests/good", doc(good_.manifest, media::kOciManifest));
  auto ok = pull_fresh("good");
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(*ok, good_.manifest_d);
}

TEST_F(CVE_2021_41190, AMediaTypeThatDisagreesWithTheContentTypeIsRefused) {
  // An index (by its own mediaType) served as a manifest, and a manifest
  // (by its own mediaType) served as an index.
  json as_manifest = json::parse(evil_.manifest);
  as_manifest["mediaType"] = media::kOciIndex;
  json as_index = {{"schemaVersion", 2},
                   {"mediaType", media::kDockerManifest},
                   {"manifests", {{{"mediaType", media::kOciManifest}, {"digest", evil_.manifest_d.string()},
                                   {"size", evil_.manifest.size()},
                                   {"platform", {{"os", "linux"}, {"architecture", host_architecture()}}}}}}};
  struct Case {
    std::string tag, body, content_type;
  } cases[] = {{"m", as_manifest.dump(), media::kOciManifest}, {"i", as_index.dump(), media::kOciIndex}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.tag);
    // Positive control: trusting the Content-Type alone, each reads as a
    // valid document of the served kind leading to the evil layer.
    std::map<std::string, std::string> known = {{evil_.manifest_d.string(), evil_.manifest}};
    ASSERT_EQ(naive_layers(c.body, c.content_type, known), std::vector<std::string>{evil_.layer_d.string()});

    reg_.set("/v2/app/manifests/" + c.tag, doc(c.body, c.content_type));
    auto got = pull_fresh(c.tag, {sha256_of(c.body), evil_.layer_d, evil_.config_d});
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().message().find("does not match the Content-Type \"" + c.content_type + "\""),
              std::string::npos)
        << got.error().message();
  }
}

TEST_F(CVE_2021_41190, BytesThatDoNotMatchTheirDigestAreRefused) {
  // Positive control: the bytes the stub serves below are valid documents
  // and blobs in their own right; only their digests give them away.
  ASSERT_TRUE(parse_manifest(evil_.manifest));
  ASSERT_NE(sha256_of(evil_.manifest), good_.manifest_d);

  // A manifest fetched by digest: the registry answers with another manifest.
  reg_.set("/v2/app/manifests/" + good_.manifest_d.string(), doc(evil_.manifest, media::kOciManifest));
  auto by_digest = pull_fresh(good_.manifest_d.string(), {good_.manifest_d, evil_.manifest_d, evil_.layer_d});
  ASSERT_FALSE(by_digest);
  EXPECT_NE(by_digest.error().message().find("content digest " + evil_.manifest_d.string() + " does not match " +
                                             good_.manifest_d.string()),
            std::string::npos)
      << by_digest.error().message();

  // By tag, with a Docker-Content-Digest that names other bytes.
  reg_.set("/v2/app/manifests/lying",
           {200, {{"Content-Type", media::kOciManifest}, {"Docker-Content-Digest", good_.manifest_d.string()}},
            evil_.manifest});
  auto by_tag = pull_fresh("lying", {evil_.manifest_d, evil_.layer_d});
  ASSERT_FALSE(by_tag);
  EXPECT_NE(by_tag.error().message().find("does not match the registry's Docker-Content-Digest"), std::string::npos)
      << by_tag.error().message();

  // An index whose platform entry is answered with other bytes.
  json index = {{"schemaVersion", 2},
                {"mediaType", media::kOciIndex},
                {"manifests", {{{"mediaType", media::kOciManifest}, {"digest", good_.manifest_d.string()},
                                {"size", good_.manifest.size()},
                                {"platform", {{"os", "linux"}, {"architecture", host_architecture()}}}}}}};
  reg_.set("/v2/app/manifests/idx", doc(index.dump(), media::kOciIndex));
  auto via_index = pull_fresh("idx", {evil_.layer_d, evil_.config_d});
  ASSERT_FALSE(via_index);
  EXPECT_NE(via_index.error().message().find("does not match " + good_.manifest_d.string()), std::string::npos)
      << via_index.error().message();

  // The config and then the layer of a correct manifest swapped for the evil ones.
  reg_.set("/v2/app/manifests/good", doc(good_.manifest, media::kOciManifest));
  serve_blob(good_.config_d, evil_.config);
  auto config = pull_fresh("good", {good_.config_d, good_.manifest_d});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message().find("blob digest mismatch: expected " + good_.config_d.string() + ", got " +
                                          evil_.config_d.string()),
            std::string::npos)
      << config.error().message();
  serve_blob(good_.config_d, good_.config);
  serve_blob(good_.layer_d, evil_.layer);
  auto layer = pull_fresh("good", {good_.layer_d, good_.manifest_d});
  ASSERT_FALSE(layer);
  EXPECT_NE(layer.error().message().find("blob digest mismatch: expected " + good_.layer_d.string()),
            std::string::npos)
      << layer.error().message();
}

}  // namespace
}  // namespace stack::test
