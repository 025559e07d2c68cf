// The registry client against a real registry (Debian's docker-registry on
// loopback): push then pull by tag and digest, index platform selection,
// TLS + htpasswd auth with `login`, a tampered blob refused, an interrupted
// pull resumed, a docker.io mirror, and interop with skopeo both ways.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/image/auth.h"
#include "runtime/image/manifest.h"
#include "runtime/image/registry.h"
#include "runtime/image/store.h"
#include "tests/support/bundle.h"
#include "tests/support/registry_fixture.h"

namespace fs = std::filesystem;
using namespace stack::img;
using stack::test::CmdResult;
using stack::test::RegistryFixture;
using stack::test::RegistryOptions;
using stack::test::run;
using stack::test::TempDir;

namespace {

#define REQUIRE_REGISTRY(opts)                                         \
  do {                                                                 \
    auto why_ = RegistryFixture::skip_reason(opts);                    \
    if (!why_.empty()) GTEST_SKIP() << why_;                           \
  } while (0)

Reference R(const std::string& text) {
  auto r = parse_reference(text);
  EXPECT_TRUE(r) << text << ": " << r.error().message();
  return r ? *r : Reference{};
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Built {
  Digest manifest, config, layer;
  int64_t manifest_size = 0;
};

// A one-layer busybox image made from scratch straight into `store`:
// layer = tar.gz of {bin/busybox, marker[, big]}, OCI config and manifest.
Built build_image(ContentStore& store, const std::string& local, const std::string& arch,
                  const std::string& marker, size_t random_mib = 0) {
  TempDir work("stack-reg-img");
  const std::string root = work.path() + "/root";
  fs::create_directories(root + "/bin");
  fs::copy_file("/bin/busybox", root + "/bin/busybox");
  std::ofstream(root + "/marker") << marker << "\n";
  if (random_mib > 0) {
    CmdResult dd = run({"dd", "if=/dev/urandom", "of=" + root + "/big", "bs=1M",
                        "count=" + std::to_string(random_mib), "status=none"});
    EXPECT_EQ(dd.status, 0) << dd.err;
  }
  CmdResult tar = run({"tar", "-C", root, "-cf", work.path() + "/layer.tar", "."});
  EXPECT_EQ(tar.status, 0) << tar.err;
  Digest diff_id = sha256_of(file_bytes(work.path() + "/layer.tar"));
  CmdResult gz = run({"gzip", "-n", "-1", work.path() + "/layer.tar"});
  EXPECT_EQ(gz.status, 0) << gz.err;
  std::string layer = file_bytes(work.path() + "/layer.tar.gz");

  Built b;
  b.layer = sha256_of(layer);
  EXPECT_TRUE(store.put_blob(b.layer, layer));
  nlohmann::json config = {{"architecture", arch},
                           {"os", "linux"},
                           {"config", {{"Cmd", {"/bin/busybox", "cat", "/marker"}}}},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id.string()}}}}};
  std::string config_json = config.dump();
  b.config = sha256_of(config_json);
  EXPECT_TRUE(store.put_blob(b.config, config_json));
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", media::kOciManifest},
      {"config", {{"mediaType", media::kOciConfig}, {"digest", b.config.string()}, {"size", config_json.size()}}},
      {"layers",
       {{{"mediaType", media::kOciLayerGzip}, {"digest", b.layer.string()}, {"size", layer.size()}}}}};
  std::string manifest_json = manifest.dump();
  b.manifest = sha256_of(manifest_json);
  b.manifest_size = static_cast<int64_t>(manifest_json.size());
  EXPECT_TRUE(store.put_blob(b.manifest, manifest_json));
  EXPECT_TRUE(store.set_ref(R(local), b.manifest));
  return b;
}

// Every blob file's name is the sha256 of its content.
void expect_verified(const ContentStore& store, const std::vector<Digest>& digests) {
  for (const auto& d : digests) {
    ASSERT_TRUE(store.has_blob(d)) << d.string();
    EXPECT_EQ(sha256_of(file_bytes(store.blob_path(d))), d) << d.string();
  }
}

struct Recorder : ProgressSink {
  std::mutex mu;
  std::vector<ProgressEvent> events;
  std::function<void(const ProgressEvent&)> hook;
  void event(const ProgressEvent& e) override {
    if (hook) hook(e);
    std::lock_guard lock(mu);
    events.push_back(e);
  }
};

class Registry : public ::testing::Test {
 protected:
  TempDir tmp{"stack-reg-test"};
  ContentStore open_store(const std::string& name) {
    auto s = ContentStore::open(tmp.path() + "/" + name);
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return std::move(*s);
  }
  RegistryConfig config() {
    RegistryConfig c;
    c.auth_file = tmp.path() + "/docker-config.json";  // never the user's own
    return c;
  }
};

TEST_F(Registry, PushThenPullByTagAndByDigest) {
  REQUIRE_REGISTRY(RegistryOptions{});
  RegistryFixture reg;
  ASSERT_EQ(reg.start(), "");
  ContentStore src = open_store("src");
  Built img = build_image(src, "local/app:1", host_architecture(), "hello");
  RegistryConfig cfg = config();

  auto pushed = push(R("local/app:1"), R(reg.host() + "/app:1"), src, cfg);
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(*pushed, img.manifest);

  ContentStore by_tag = open_store("by-tag");
  Recorder rec;
  auto pulled = pull(R(reg.host() + "/app:1"), by_tag, cfg, &rec);
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(*pulled, img.manifest);
  expect_verified(by_tag, {img.manifest, img.config, img.layer});
  auto r = by_tag.get_ref(R(reg.host() + "/app:1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, img.manifest);
  bool completed = false;
  for (const auto& e : rec.events)
    completed |= e.state == ProgressEvent::State::Complete && e.id == img.layer.hex.substr(0, 12);
  EXPECT_TRUE(completed) << "no 'Pull complete' progress event for the layer";

  ContentStore by_digest = open_store("by-digest");
  auto pinned = pull(R(reg.host() + "/app@" + img.manifest.string()), by_digest, cfg);
  ASSERT_TRUE(pinned) << pinned.error().message();
  EXPECT_EQ(*pinned, img.manifest);
  expect_verified(by_digest, {img.manifest, img.config, img.layer});

  // A second push finds every blob already there.
  Recorder again;
  ASSERT_TRUE(push(R("local/app:1"), R(reg.host() + "/app:1"), src, cfg, &again));
  for (const auto& e : again.events) EXPECT_NE(e.state, ProgressEvent::State::Pushed) << e.id;

  auto missing = pull(R(reg.host() + "/app:nope"), by_tag, cfg);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "pull " + reg.host() + "/app:nope: manifest unknown");
}

TEST_F(Registry, PullOfAnIndexSelectsTheHostPlatform) {
  REQUIRE_REGISTRY(RegistryOptions{});
  RegistryFixture reg;
  ASSERT_EQ(reg.start(), "");
  ContentStore src = open_store("src");
  const std::string host_arch = host_architecture();
  const std::string other = host_arch == "arm64" ? "amd64" : "arm64";
  Built mine = build_image(src, "local/a:host", host_arch, "host");
  Built theirs = build_image(src, "local/a:other", other, "other");
  nlohmann::json index = {
      {"schemaVersion", 2},
      {"mediaType", media::kOciIndex},
      {"manifests",
       {{{"mediaType", media::kOciManifest}, {"digest", theirs.manifest.string()}, {"size", theirs.manifest_size},
         {"platform", {{"os", "linux"}, {"architecture", other}}}},
        {{"mediaType", media::kOciManifest}, {"digest", mine.manifest.string()}, {"size", mine.manifest_size},
         {"platform", {{"os", "linux"}, {"architecture", host_arch}}}}}}};
  std::string index_json = index.dump();
  Digest index_digest = sha256_of(index_json);
  ASSERT_TRUE(src.put_blob(index_digest, index_json));
  ASSERT_TRUE(src.set_ref(R("local/multi:1"), index_digest));
  RegistryConfig cfg = config();
  auto pushed = push(R("local/multi:1"), R(reg.host() + "/multi:1"), src, cfg);
  ASSERT_TRUE(pushed) << pushed.error().message();

  ContentStore dst = open_store("dst");
  auto pulled = pull(R(reg.host() + "/multi:1"), dst, cfg);
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(*pulled, mine.manifest);
  expect_verified(dst, {index_digest, mine.manifest, mine.config, mine.layer});
  EXPECT_FALSE(dst.has_blob(theirs.layer)) << "the other platform's layer was downloaded";
  EXPECT_FALSE(dst.has_blob(theirs.config));
}

TEST_F(Registry, TlsAndHtpasswdAuthWithLogin) {
  RegistryOptions opts{.tls = true, .user = "alice", .password = "s3cret-pass"};
  REQUIRE_REGISTRY(opts);
  RegistryFixture reg(opts);
  ASSERT_EQ(reg.start(), "");
  ContentStore src = open_store("src");
  Built img = build_image(src, "local/app:1", host_architecture(), "secure");
  RegistryConfig cfg = config();
  cfg.ca_file = reg.ca_file();

  // Without the CA the server's certificate is not trusted.
  RegistryConfig no_ca = config();
  ContentStore dst = open_store("dst");
  auto untrusted = pull(R(reg.host() + "/app:1"), dst, no_ca);
  ASSERT_FALSE(untrusted);
  EXPECT_NE(untrusted.error().message().find("certificate verify failed"), std::string::npos)
      << untrusted.error().message();

  // Anonymous: refused with a pointer to `stack login`.
  auto anon = push(R("local/app:1"), R(reg.host() + "/app:1"), src, cfg);
  ASSERT_FALSE(anon);
  EXPECT_NE(anon.error().message().find("unauthorized: authentication required (no credentials for " + reg.host() +
                                        "; run `stack login " + reg.host() + "`)"),
            std::string::npos)
      << anon.error().message();

  // Wrong password: login fails and saves nothing.
  auto bad = login(reg.host(), "alice", "wrong", cfg);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("unauthorized"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(fs::exists(cfg.auth_file));

  auto good = login(reg.host(), "alice", "s3cret-pass", cfg);
  ASSERT_TRUE(good) << good.error().message();
  auto saved = load_credentials(reg.host(), cfg.auth_file);
  ASSERT_TRUE(saved && *saved);
  EXPECT_EQ((*saved)->user, "alice");
  auto json = nlohmann::json::parse(file_bytes(cfg.auth_file));
  EXPECT_EQ(json["auths"][reg.host()]["auth"], stack::base64_encode("alice:s3cret-pass"));

  auto pushed = push(R("local/app:1"), R(reg.host() + "/app:1"), src, cfg);
  ASSERT_TRUE(pushed) << pushed.error().message();

  RegistryConfig anon_cfg = cfg;
  anon_cfg.auth_file = tmp.path() + "/absent.json";
  auto denied = pull(R(reg.host() + "/app:1"), dst, anon_cfg);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().message(), "pull " + reg.host() + "/app:1: unauthorized: authentication required (no credentials for " +
                                          reg.host() + "; run `stack login " + reg.host() + "`)");
  EXPECT_FALSE(dst.get_ref(R(reg.host() + "/app:1")));

  RegistryConfig wrong_cfg = cfg;
  wrong_cfg.auth_file = tmp.path() + "/wrong.json";
  ASSERT_TRUE(save_login(reg.host(), "alice", "not-it", wrong_cfg.auth_file));
  auto rejected = pull(R(reg.host() + "/app:1"), dst, wrong_cfg);
  ASSERT_FALSE(rejected);
  EXPECT_NE(rejected.error().message().find("were rejected"), std::string::npos) << rejected.error().message();

  auto pulled = pull(R(reg.host() + "/app:1"), dst, cfg);
  ASSERT_TRUE(pulled) << pulled.error().message();
  expect_verified(dst, {img.manifest, img.config, img.layer});
}

TEST_F(Registry, TamperedBlobIsRefusedAndLeavesNothing) {
  REQUIRE_REGISTRY(RegistryOptions{});
  RegistryFixture reg;
  ASSERT_EQ(reg.start(), "");
  ContentStore src = open_store("src");
  Built img = build_image(src, "local/app:1", host_architecture(), "tamper");
  RegistryConfig cfg = config();
  ASSERT_TRUE(push(R("local/app:1"), R(reg.host() + "/app:1"), src, cfg));

  const std::string data = reg.blob_data_path(img.layer.hex);
  ASSERT_TRUE(fs::exists(data)) << data;
  {
    std::fstream f(data, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(100);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(100);
    f.write(&c, 1);
  }
  ContentStore dst = open_store("dst");
  auto pulled = pull(R(reg.host() + "/app:1"), dst, cfg);
  ASSERT_FALSE(pulled);
  EXPECT_NE(pulled.error().message().find(img.layer.string()), std::string::npos) << pulled.error().message();
  EXPECT_FALSE(dst.has_blob(img.layer));
  EXPECT_FALSE(dst.has_blob(img.manifest));
  EXPECT_FALSE(dst.get_ref(R(reg.host() + "/app:1")));
  auto refs = dst.refs();
  ASSERT_TRUE(refs);
  EXPECT_TRUE(refs->empty());
}

TEST_F(Registry, InterruptedPullResumesWithRange) {
  REQUIRE_REGISTRY(RegistryOptions{});
  RegistryFixture reg;
  ASSERT_EQ(reg.start(), "");
  ContentStore src = open_store("src");
  Built img = build_image(src, "local/big:1", host_architecture(), "big", 24);
  RegistryConfig cfg = config();
  ASSERT_TRUE(push(R("local/big:1"), R(reg.host() + "/big:1"), src, cfg));

  // Kill the registry once the layer is a few MiB in; with one retry the
  // pull then fails (connection refused) and keeps the partial ingest.
  ContentStore dst = open_store("dst");
  const std::string id = img.layer.hex.substr(0, 12);
  Recorder first;
  std::atomic<bool> killed{false};
  first.hook = [&](const ProgressEvent& e) {
    if (e.id == id && e.state == ProgressEvent::State::Downloading && e.done >= (4u << 20) && !killed.exchange(true))
      reg.stop();
  };
  RegistryConfig once = cfg;
  once.retries = 1;
  auto broken = pull(R(reg.host() + "/big:1"), dst, once, &first);
  ASSERT_TRUE(killed.load()) << "the download never reached 4 MiB";
  ASSERT_FALSE(broken);
  EXPECT_FALSE(dst.has_blob(img.layer));
  EXPECT_FALSE(dst.get_ref(R(reg.host() + "/big:1")));

  ASSERT_EQ(reg.start(), "");
  Recorder second;
  auto pulled = pull(R(reg.host() + "/big:1"), dst, cfg, &second);
  ASSERT_TRUE(pulled) << pulled.error().message();
  expect_verified(dst, {img.manifest, img.config, img.layer});
  uint64_t resumed_at = 0;
  for (const auto& e : second.events)
    if (e.id == id && e.state == ProgressEvent::State::Downloading) {
      resumed_at = e.done;
      break;
    }
  EXPECT_GE(resumed_at, 4u << 20) << "the second pull did not resume from the partial layer";
}

TEST_F(Registry, ManyLayersTransferInParallelAndRepeatedLayersOnce) {
  REQUIRE_REGISTRY(RegistryOptions{});
  RegistryFixture reg;
  ASSERT_EQ(reg.start(), "");
  ContentStore src = open_store("src");
  // Six small layers, the first listed twice (as identical empty layers are).
  TempDir work("stack-reg-layers");
  nlohmann::json layers = nlohmann::json::array(), diff_ids = nlohmann::json::array();
  std::vector<Digest> blobs;
  for (int i = 0; i < 6; ++i) {
    const std::string dir = work.path() + "/l" + std::to_string(i);
    fs::create_directories(dir);
    std::ofstream(dir + "/file" + std::to_string(i)) << std::string(100000 + i, static_cast<char>('a' + i));
    ASSERT_EQ(run({"tar", "-C", dir, "-czf", dir + ".tgz", "."}).status, 0);
    std::string bytes = file_bytes(dir + ".tgz");
    Digest d = sha256_of(bytes);
    ASSERT_TRUE(src.put_blob(d, bytes));
    blobs.push_back(d);
    layers.push_back({{"mediaType", media::kOciLayerGzip}, {"digest", d.string()}, {"size", bytes.size()}});
    diff_ids.push_back(d.string());  // not unpacked here; only transferred
  }
  layers.push_back(layers[0]);
  diff_ids.push_back(diff_ids[0]);
  std::string config_json = nlohmann::json{{"architecture", host_architecture()}, {"os", "linux"},
                                      {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}.dump();
  Digest config_digest = sha256_of(config_json);
  ASSERT_TRUE(src.put_blob(config_digest, config_json));
  std::string manifest = nlohmann::json{{"schemaVersion", 2}, {"mediaType", media::kOciManifest},
                                        {"config", {{"mediaType", media::kOciConfig}, {"digest", config_digest.string()},
                                                    {"size", config_json.size()}}},
                                        {"layers", layers}}.dump();
  Digest manifest_digest = sha256_of(manifest);
  ASSERT_TRUE(src.put_blob(manifest_digest, manifest));
  ASSERT_TRUE(src.set_ref(R("local/layers:1"), manifest_digest));

  RegistryConfig cfg = config();
  cfg.parallel = 3;
  auto pushed = push(R("local/layers:1"), R(reg.host() + "/layers:1"), src, cfg);
  ASSERT_TRUE(pushed) << pushed.error().message();
  ContentStore dst = open_store("dst");
  Recorder rec;
  auto pulled = pull(R(reg.host() + "/layers:1"), dst, cfg, &rec);
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(*pulled, manifest_digest);
  blobs.push_back(config_digest);
  blobs.push_back(manifest_digest);
  expect_verified(dst, blobs);
  int completes = 0;
  for (const auto& e : rec.events) completes += e.state == ProgressEvent::State::Complete;
  EXPECT_EQ(completes, 6);  // one per distinct layer
}

TEST_F(Registry, DockerHubNamesGoToTheConfiguredMirror) {
  REQUIRE_REGISTRY(RegistryOptions{});
  RegistryFixture reg;
  ASSERT_EQ(reg.start(), "");
  ContentStore src = open_store("src");
  Built img = build_image(src, "local/app:1", host_architecture(), "mirror");
  RegistryConfig cfg = config();
  ASSERT_TRUE(push(R("local/app:1"), R(reg.host() + "/library/busyapp:1"), src, cfg));
  cfg.mirrors["docker.io"] = "http://" + reg.host();
  ContentStore dst = open_store("dst");
  auto pulled = pull(R("busyapp:1"), dst, cfg);
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(*pulled, img.manifest);
  auto r = dst.get_ref(R("docker.io/library/busyapp:1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, img.manifest);
}

TEST_F(Registry, InteropWithSkopeo) {
  REQUIRE_REGISTRY(RegistryOptions{});
  if (!fs::exists("/usr/bin/skopeo")) GTEST_SKIP() << "skopeo is not installed (apt-get install skopeo)";
  RegistryFixture reg;
  ASSERT_EQ(reg.start(), "");
  const std::string policy = tmp.path() + "/policy.json";
  std::ofstream(policy) << R"({"default":[{"type":"insecureAcceptAnything"}]})";
  ContentStore src = open_store("src");
  Built img = build_image(src, "local/app:1", host_architecture(), "interop");
  RegistryConfig cfg = config();

  // skopeo pulls what we pushed.
  ASSERT_TRUE(push(R("local/app:1"), R(reg.host() + "/ours:1"), src, cfg));
  const std::string out = tmp.path() + "/skopeo-out";
  CmdResult got = run({"skopeo", "--policy", policy, "copy", "--src-tls-verify=false",
                       "docker://" + reg.host() + "/ours:1", "oci:" + out + ":ours"});
  ASSERT_EQ(got.status, 0) << got.err;
  EXPECT_TRUE(fs::exists(out + "/blobs/sha256/" + img.layer.hex));

  // We pull what skopeo pushed from an OCI layout built from our store.
  const std::string layout = tmp.path() + "/layout";
  fs::create_directories(layout + "/blobs/sha256");
  std::ofstream(layout + "/oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
  for (const auto& d : {img.manifest, img.config, img.layer})
    fs::copy_file(src.blob_path(d), layout + "/blobs/sha256/" + d.hex);
  nlohmann::json index = {
      {"schemaVersion", 2},
      {"manifests",
       {{{"mediaType", media::kOciManifest}, {"digest", img.manifest.string()}, {"size", img.manifest_size},
         {"annotations", {{"org.opencontainers.image.ref.name", "theirs"}}}}}}};
  std::ofstream(layout + "/index.json") << index.dump();
  CmdResult put = run({"skopeo", "--policy", policy, "copy", "--dest-tls-verify=false", "oci:" + layout + ":theirs",
                       "docker://" + reg.host() + "/theirs:1"});
  ASSERT_EQ(put.status, 0) << put.err;
  ContentStore dst = open_store("dst");
  auto pulled = pull(R(reg.host() + "/theirs:1"), dst, cfg);
  ASSERT_TRUE(pulled) << pulled.error().message();
  auto body = dst.read_blob(*pulled);
  ASSERT_TRUE(body);
  auto m = parse_manifest(*body);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].digest, img.layer);
  expect_verified(dst, {*pulled, m->config.digest, img.layer});
}

// A registry stand-in (python3's http.server) for what docker-registry does
// not exercise: a Bearer token service (realm/service/scope, "access_token"),
// blob GETs redirected to storage that answers chunked and ignores Range.
// Serves <root>/blobs/<hex> and <root>/tags/<tag> (a digest) as repo "app".
const char* kFakeRegistry = R"PY(
import base64, http.server, json, os, sys
root, portfile = sys.argv[1], sys.argv[2]
TOKEN = "tok-123"
GOOD = "Basic " + base64.b64encode(b"bob:pw").decode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, body=b"", headers={}):
        self.send_response(code)
        for k, v in headers.items(): self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        port = self.server.server_address[1]
        if self.path.startswith("/token?"):
            if self.headers.get("Authorization") != GOOD: return self.reply(401, b"{}")
            if "service=fake" not in self.path or "scope=repository%3Aapp%3Apull" not in self.path:
                return self.reply(400, b"{}")
            return self.reply(200, json.dumps({"access_token": TOKEN}).encode())
        if self.path.startswith("/storage/"):
            data = open(os.path.join(root, "blobs", self.path[9:]), "rb").read()
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 70000):
                c = data[i:i + 70000]
                self.wfile.write(b"%x\r\n" % len(c) + c + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            chal = 'Bearer realm="http://127.0.0.1:%d/token",service="fake",scope="repository:app:pull"' % port
            err = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
            return self.reply(401, json.dumps(err).encode(), {"WWW-Authenticate": chal})
        if self.path == "/v2/": return self.reply(200, b"{}")
        if self.path.startswith("/v2/app/manifests/"):
            ref = self.path.rsplit("/", 1)[1]
            tag = os.path.join(root, "tags", ref)
            dg = ref if ref.startswith("sha256:") else (open(tag).read().strip() if os.path.exists(tag) else "")
            blob = os.path.join(root, "blobs", dg[7:])
            if not dg or not os.path.exists(blob):
                err = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
                return self.reply(404, json.dumps(err).encode())
            data = open(blob, "rb").read()
            return self.reply(200, data, {"Content-Type": json.loads(data)["mediaType"], "Docker-Content-Digest": dg})
        if self.path.startswith("/v2/app/blobs/sha256:"):
            return self.reply(307, b"", {"Location": "/storage/" + self.path.rsplit(":", 1)[1]})
        self.reply(404, b"{}")
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f: f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
)PY";

class FakeRegistry {
 public:
  explicit FakeRegistry(const std::string& root) : root_(root) {
    fs::create_directories(root + "/blobs");
    fs::create_directories(root + "/tags");
    std::ofstream(root + "/server.py") << kFakeRegistry;
    const std::string portfile = root + "/port";
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // gone with the test process, even on a timeout kill
      if (::getppid() != parent) ::_exit(1);
      ::execlp("python3", "python3", (root + "/server.py").c_str(), root.c_str(), portfile.c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !fs::exists(portfile); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (fs::exists(portfile)) port_ = std::stoi(file_bytes(portfile));
  }
  ~FakeRegistry() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  void add(const ContentStore& store, const Digest& d) {
    fs::copy_file(store.blob_path(d), root_ + "/blobs/" + d.hex, fs::copy_options::overwrite_existing);
  }
  void tag(const std::string& tag, const Digest& d) { std::ofstream(root_ + "/tags/" + tag) << d.string(); }

 private:
  std::string root_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(Registry, BearerTokenRedirectedChunkedBlobsAndRangeIgnored) {
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "python3 is not installed";
  FakeRegistry fake(tmp.path() + "/fake");
  ASSERT_NE(fake.port(), 0) << "the fake registry did not start";
  ContentStore src = open_store("src");
  Built img = build_image(src, "local/app:1", host_architecture(), "bearer", 2);
  for (const auto& d : {img.manifest, img.config, img.layer}) fake.add(src, d);
  fake.tag("1", img.manifest);
  RegistryConfig cfg = config();
  ContentStore dst = open_store("dst");

  auto anon = pull(R(fake.host() + "/app:1"), dst, cfg);
  ASSERT_FALSE(anon);
  EXPECT_EQ(anon.error().message(), "pull " + fake.host() + "/app:1: unauthorized: authentication required (no credentials for " +
                                        fake.host() + "; run `stack login " + fake.host() + "`)");

  auto bad = login(fake.host(), "bob", "nope", cfg);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "login " + fake.host() + ": unauthorized: incorrect username or password for " + fake.host());
  ASSERT_TRUE(login(fake.host(), "bob", "pw", cfg));

  // Half of the layer is already ingested: the client asks for the rest with
  // Range, the storage answers 200 with the whole blob, the client skips what
  // it has. The result must still verify.
  {
    std::string layer = file_bytes(src.blob_path(img.layer));
    auto w = dst.ingest(img.layer, static_cast<int64_t>(layer.size()), /*resumable=*/true);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(layer.data(), layer.size() / 2));
  }
  Recorder rec;
  auto pulled = pull(R(fake.host() + "/app:1"), dst, cfg, &rec);
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(*pulled, img.manifest);
  expect_verified(dst, {img.manifest, img.config, img.layer});
  bool resumed = false;
  for (const auto& e : rec.events)
    resumed |= e.id == img.layer.hex.substr(0, 12) && e.state == ProgressEvent::State::Downloading && e.done > 0;
  EXPECT_TRUE(resumed);

  auto missing = pull(R(fake.host() + "/app:2"), dst, cfg);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "pull " + fake.host() + "/app:2: manifest unknown");
}

}  // namespace
