// Image references and digests: Docker's parsing and normalisation rules
// (distribution/reference), as users type names on the command line.
#include <gtest/gtest.h>

#include "runtime/image/digest.h"
#include "runtime/image/reference.h"

namespace stack::img {
namespace {

const std::string kHex = "4b7ce07002c69e8f3d704a9c5d6fd3053be500b7f1c69fc0d80990c2ad8dd412";
const std::string kDigest = "sha256:" + kHex;

struct Case {
  std::string text, domain, path, tag, digest, string, familiar;
};

TEST(ParseReference, NormalisesLikeDocker) {
  const std::vector<Case> cases = {
      {"alpine", "docker.io", "library/alpine", "latest", "", "docker.io/library/alpine:latest", "alpine:latest"},
      {"alpine:3.19", "docker.io", "library/alpine", "3.19", "", "docker.io/library/alpine:3.19", "alpine:3.19"},
      {"library/alpine", "docker.io", "library/alpine", "latest", "", "docker.io/library/alpine:latest",
       "alpine:latest"},
      {"docker.io/library/alpine", "docker.io", "library/alpine", "latest", "", "docker.io/library/alpine:latest",
       "alpine:latest"},
      {"docker.io/alpine", "docker.io", "library/alpine", "latest", "", "docker.io/library/alpine:latest",
       "alpine:latest"},
      {"index.docker.io/alpine", "docker.io", "library/alpine", "latest", "", "docker.io/library/alpine:latest",
       "alpine:latest"},
      {"user/app", "docker.io", "user/app", "latest", "", "docker.io/user/app:latest", "user/app:latest"},
      {"user/app:1", "docker.io", "user/app", "1", "", "docker.io/user/app:1", "user/app:1"},
      {"localhost/app", "localhost", "app", "latest", "", "localhost/app:latest", "localhost/app:latest"},
      {"localhost:5000/a/b:tag", "localhost:5000", "a/b", "tag", "", "localhost:5000/a/b:tag",
       "localhost:5000/a/b:tag"},
      {"myregistry.example.com/team/app:1.0", "myregistry.example.com", "team/app", "1.0", "",
       "myregistry.example.com/team/app:1.0", "myregistry.example.com/team/app:1.0"},
      {"alpine@" + kDigest, "docker.io", "library/alpine", "", kDigest, "docker.io/library/alpine@" + kDigest,
       "alpine@" + kDigest},
      {"alpine:3.19@" + kDigest, "docker.io", "library/alpine", "3.19", kDigest,
       "docker.io/library/alpine:3.19@" + kDigest, "alpine:3.19@" + kDigest},
      {"ghcr.io/org/my_app__x/sub-name--2:v1_2.3-rc", "ghcr.io", "org/my_app__x/sub-name--2", "v1_2.3-rc", "",
       "ghcr.io/org/my_app__x/sub-name--2:v1_2.3-rc", "ghcr.io/org/my_app__x/sub-name--2:v1_2.3-rc"},
      {"docker.io/library/a/b", "docker.io", "library/a/b", "latest", "", "docker.io/library/a/b:latest",
       "library/a/b:latest"},
      {"127.0.0.1:5000/app:Tag_1", "127.0.0.1:5000", "app", "Tag_1", "", "127.0.0.1:5000/app:Tag_1",
       "127.0.0.1:5000/app:Tag_1"},
      {"[::1]:5000/app", "[::1]:5000", "app", "latest", "", "[::1]:5000/app:latest", "[::1]:5000/app:latest"},
      {"Registry/app", "Registry", "app", "latest", "", "Registry/app:latest", "Registry/app:latest"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = parse_reference(c.text);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->domain, c.domain);
    EXPECT_EQ(r->path, c.path);
    EXPECT_EQ(r->tag, c.tag);
    EXPECT_EQ(r->digest, c.digest);
    EXPECT_EQ(r->repository(), c.domain + "/" + c.path);
    EXPECT_EQ(r->string(), c.string);
    EXPECT_EQ(r->familiar(), c.familiar);
    // The normalised forms parse back to the same reference.
    auto again = parse_reference(r->string());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->string(), r->string());
    auto fam = parse_reference(r->familiar());
    ASSERT_TRUE(fam);
    EXPECT_EQ(fam->string(), r->string());
  }
}

TEST(ParseReference, RejectsInvalidNamesWithAReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Alpine", "must be lowercase"},
      {"user/App", "must be lowercase"},
      {"a b", "invalid"},
      {"alpine:", "empty tag"},
      {"host:5000/", "empty repository path"},
      {"alpine@sha256:short", "invalid digest"},
      {"alpine@md5:" + kHex.substr(0, 32), "unsupported algorithm"},
      {":tag", "empty repository name"},
      {"alpine:" + std::string(129, 'a'), "longer than 128"},
      {"alpine:-bad", "invalid tag"},
      {"", "empty reference"},
      {"a//b", "empty repository path component"},
      {"a/b/", "empty repository path component"},
      {"-alpine", "invalid"},
      {"alpine-", "invalid"},
      {"a..b", "invalid"},
      {"bad_host.com:port/app", "invalid"},
      {kHex, "64-byte hexadecimal"},
      {std::string(256, 'a'), "longer than 255"},
  };
  for (const auto& [text, why] : cases) {
    SCOPED_TRACE(text);
    auto r = parse_reference(text);
    ASSERT_FALSE(r) << r->string();
    EXPECT_EQ(r.error().context.rfind("invalid reference \"" + text + "\": ", 0), 0u) << r.error().context;
    EXPECT_NE(r.error().context.find(why), std::string::npos) << r.error().context;
  }
}

TEST(ParseReference, AcceptsTheLongestTag) {
  auto r = parse_reference("alpine:" + std::string(128, 'x'));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->tag.size(), 128u);
}

TEST(ParseDigest, AcceptsOnlySha256LowercaseHex) {
  auto d = parse_digest(kDigest);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->algorithm, "sha256");
  EXPECT_EQ(d->hex, kHex);
  EXPECT_EQ(d->string(), kDigest);

  for (const std::string bad : {std::string("sha256:") + "ABC", "sha256:" + kHex.substr(1), kHex,
                                "sha512:" + kHex + kHex, "sha256:" + kHex + "0", "sha256:" + std::string(64, 'A'),
                                "sha256:" + std::string(63, 'a') + "g", std::string("")}) {
    SCOPED_TRACE(bad);
    auto r = parse_digest(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().context.find("invalid digest \"" + bad + "\""), std::string::npos) << r.error().context;
  }
}

TEST(Sha256, MatchesKnownVectorsAndStreams) {
  EXPECT_EQ(sha256_of("").hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abc").hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string big(200000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  Sha256 h;
  for (size_t i = 0; i < big.size(); i += 4093) h.update(big.data() + i, std::min<size_t>(4093, big.size() - i));
  EXPECT_EQ(h.finish(), sha256_of(big));
}

}  // namespace
}  // namespace stack::img
