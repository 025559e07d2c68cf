// Pure pieces of the registry client: challenge parsing, Docker config.json
// credentials, URL handling and progress rendering.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/image/auth.h"
#include "runtime/image/http.h"
#include "runtime/image/progress.h"
#include "tests/support/bundle.h"

using namespace stack::img;
namespace fs = std::filesystem;

TEST(RegistryAuth, ParsesBearerChallengeWithCommasInScope) {
  auto c = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["service"], "registry.docker.io");
  EXPECT_EQ(c[0].params["scope"], "repository:samalba/my-app:pull,push");
}

TEST(RegistryAuth, ParsesSeveralChallenges) {
  auto c = parse_www_authenticate(R"(Basic realm="Registry Realm", Bearer realm="https://t/token",error="invalid_token")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "Registry Realm");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params["error"], "invalid_token");
}

TEST(RegistryAuth, Base64RoundTripsAndAcceptsMissingPadding) {
  EXPECT_EQ(stack::base64_encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(stack::base64_decode("dXNlcjpwYXNz").value(), "user:pass");
  EXPECT_EQ(stack::base64_decode("YWI").value(), "ab");
  EXPECT_FALSE(stack::base64_decode("!!!!"));
  // Every length mod 3 and every byte value round-trips.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n < 7; ++n) {
    std::string in = all.substr(250 - n, n) + all;
    EXPECT_EQ(stack::base64_decode(stack::base64_encode(in)).value(), in);
  }
  EXPECT_EQ(stack::base64_encode("\xff\xfe"), "//4=");
  EXPECT_FALSE(stack::base64_decode("YW=I"));  // data after padding
  EXPECT_FALSE(stack::base64_decode("Y"));     // a lone sextet
}

TEST(RegistryAuth, ReadsDockerConfigIncludingDockerHubKey) {
  stack::test::TempDir dir("stack-auth");
  const std::string path = dir.path() + "/config.json";
  EXPECT_FALSE(load_credentials("localhost:5000", path).value().has_value());  // no file: anonymous
  std::ofstream(path) << R"({"auths":{"https://index.docker.io/v1/":{"auth":")" << stack::base64_encode("hub:pw1")
                      << R"("},"localhost:5000":{"auth":")" << stack::base64_encode("me:p:w") << R"("}},"credsStore":"x"})";
  auto hub = load_credentials("docker.io", path);
  ASSERT_TRUE(hub && *hub);
  EXPECT_EQ((*hub)->user, "hub");
  EXPECT_EQ((*hub)->password, "pw1");
  auto local = load_credentials("localhost:5000", path);
  ASSERT_TRUE(local && *local);
  EXPECT_EQ((*local)->password, "p:w");  // only the first ':' separates
  EXPECT_FALSE(load_credentials("other:1", path).value().has_value());
}

TEST(RegistryAuth, SaveLoginKeepsOtherEntriesAndIsPrivate) {
  stack::test::TempDir dir("stack-auth");
  const std::string path = dir.path() + "/sub/config.json";
  ASSERT_TRUE(save_login("docker.io", "a", "b", path));
  ASSERT_TRUE(save_login("r.example:5000", "c", "d", path));
  auto j = nlohmann::json::parse(stack::test::read_file(path));
  EXPECT_EQ(j["auths"]["https://index.docker.io/v1/"]["auth"], stack::base64_encode("a:b"));
  EXPECT_EQ(j["auths"]["r.example:5000"]["auth"], stack::base64_encode("c:d"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ofstream(path) << "not json";
  EXPECT_FALSE(save_login("x", "y", "z", path));  // never clobbers a file it cannot read
  EXPECT_EQ(stack::test::read_file(path), "not json");
}

TEST(RegistryHttp, ParsesAndResolvesUrls) {
  auto u = http::parse_url("https://[::1]:5000/v2/a/b?x=1").value();
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "5000");
  EXPECT_EQ(u.target, "/v2/a/b?x=1");
  EXPECT_EQ(u.origin(), "https://[::1]:5000");
  auto d = http::parse_url("http://registry").value();
  EXPECT_EQ(d.port, "80");
  EXPECT_EQ(d.target, "/");
  EXPECT_FALSE(http::parse_url("ftp://x/"));
  EXPECT_EQ(http::resolve_url("https://h:1/v2/a/blobs/uploads/", "/v2/a/blobs/uploads/u1?s=2").value(),
            "https://h:1/v2/a/blobs/uploads/u1?s=2");
  EXPECT_EQ(http::resolve_url("https://h/v2/x", "https://s3.example/b?sig=1").value(), "https://s3.example/b?sig=1");
  EXPECT_EQ(http::resolve_url("https://h/v2/a/b", "c").value(), "https://h/v2/a/c");
  EXPECT_TRUE(http::is_loopback_host("localhost:5000"));
  EXPECT_TRUE(http::is_loopback_host("127.0.0.1:35000"));
  EXPECT_TRUE(http::is_loopback_host("[::1]:5000"));
  EXPECT_FALSE(http::is_loopback_host("registry-1.docker.io"));
  EXPECT_FALSE(http::is_loopback_host("10.0.0.1:5000"));
}

TEST(RegistryProgress, RendersLikeDocker) {
  EXPECT_EQ(human_size(999), "999B");
  EXPECT_EQ(human_size(1500000), "1.5MB");
  ProgressEvent e{ProgressEvent::State::Downloading, "0123456789ab", 5, 10, ""};
  EXPECT_EQ(render_progress_line(e, 10), "0123456789ab: Downloading [=====>    ]  5B/10B");
  e.state = ProgressEvent::State::Exists;
  EXPECT_EQ(render_progress_line(e), "0123456789ab: Already exists");
}

TEST(RegistryProgress, PlainOutputHasOneLinePerStateAndTtyRedraws) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    TerminalProgress plain(fds[1], /*tty=*/0);
    plain.event({ProgressEvent::State::Downloading, "aaaaaaaaaaaa", 1, 100, ""});
    plain.event({ProgressEvent::State::Downloading, "aaaaaaaaaaaa", 50, 100, ""});
    plain.event({ProgressEvent::State::Downloading, "bbbbbbbbbbbb", 10, 300, ""});
    EXPECT_EQ(plain.overall(), (std::pair<uint64_t, uint64_t>{60, 400}));
    plain.event({ProgressEvent::State::Complete, "aaaaaaaaaaaa", 100, 100, ""});
    EXPECT_EQ(plain.overall(), (std::pair<uint64_t, uint64_t>{110, 400}));
  }
  char buf[4096];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n), "aaaaaaaaaaaa: Downloading\nbbbbbbbbbbbb: Downloading\naaaaaaaaaaaa: Pull complete\n");
  {
    TerminalProgress tty(fds[1], /*tty=*/1);
    tty.event({ProgressEvent::State::Waiting, "aaaaaaaaaaaa", 0, -1, ""});
    tty.event({ProgressEvent::State::Waiting, "bbbbbbbbbbbb", 0, -1, ""});
    tty.event({ProgressEvent::State::Complete, "aaaaaaaaaaaa", 0, -1, ""});
  }
  n = ::read(fds[0], buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n),
            "aaaaaaaaaaaa: Waiting\nbbbbbbbbbbbb: Waiting\n\x1b[2A\r\x1b[2Kaaaaaaaaaaaa: Pull complete\x1b[2B\r");
  ::close(fds[0]);
  ::close(fds[1]);
}
