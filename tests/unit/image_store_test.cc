// The content store: verified blob ingest (incl. resume), refs, snapshots,
// crash-debris cleanup, garbage collection and disk usage. Everything lives
// in a temp dir; no privileges needed.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/image/manifest.h"
#include "runtime/image/store.h"
#include "tests/support/bundle.h"

namespace fs = std::filesystem;

namespace stack::img {
namespace {

size_t count_entries(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Reference ref(const std::string& s) {
  auto r = parse_reference(s);
  EXPECT_TRUE(r) << s;
  return *r;
}

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ContentStore::open(root());
    ASSERT_TRUE(s) << s.error().message();
    store_.emplace(std::move(*s));
  }
  std::string root() const { return tmp_.path() + "/images"; }
  ContentStore& store() { return *store_; }

  stack::test::TempDir tmp_{"stack-image-store"};
  std::optional<ContentStore> store_;
};

TEST_F(ImageStoreTest, OpenCreatesAPrivateLayout) {
  for (const char* sub : {"", "/blobs/sha256", "/ingest", "/snapshots"})
    EXPECT_TRUE(fs::is_directory(root() + sub)) << sub;
  struct stat st {};
  ASSERT_EQ(::stat(root().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << "root must not be accessible to other users";
}

// A fresh host has no /var/lib/stack: the store makes its parents (mkdir -p).
TEST_F(ImageStoreTest, OpenCreatesMissingParentDirectories) {
  std::string deep = tmp_.path() + "/var/lib/stack/images";
  auto s = ContentStore::open(deep);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(fs::is_directory(deep + "/blobs/sha256"));
  struct stat st {};
  ASSERT_EQ(::stat(deep.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
}

TEST_F(ImageStoreTest, IngestedBlobAppearsWithItsContent) {
  const std::string data = "hello, layer";
  Digest d = sha256_of(data);
  EXPECT_FALSE(store().has_blob(d));
  auto w = store().ingest(d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(w) << w.error().message();
  ASSERT_TRUE(w->write(data.data(), 5));
  EXPECT_EQ(w->offset(), 5u);
  EXPECT_FALSE(store().has_blob(d)) << "nothing is visible before commit";
  ASSERT_TRUE(w->write(data.data() + 5, data.size() - 5));
  auto c = w->commit();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(store().has_blob(d));
  EXPECT_EQ(store().blob_path(d), root() + "/blobs/sha256/" + d.hex);
  EXPECT_EQ(slurp(store().blob_path(d)), data);
  auto back = store().read_blob(d);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, data);
  EXPECT_EQ(count_entries(root() + "/ingest"), 0u);
  EXPECT_FALSE(w->commit()) << "a writer commits once";
}

TEST_F(ImageStoreTest, WrongDigestIsRefusedAndLeavesNothing) {
  Digest claimed = sha256_of("what the registry promised");
  auto w = store().ingest(claimed);
  ASSERT_TRUE(w);
  const std::string data = "what it sent";
  ASSERT_TRUE(w->write(data.data(), data.size()));
  auto c = w->commit();
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().context.find(claimed.string()), std::string::npos) << c.error().context;
  EXPECT_NE(c.error().context.find(sha256_of(data).string()), std::string::npos) << c.error().context;
  EXPECT_FALSE(store().has_blob(claimed));
  EXPECT_EQ(count_entries(root() + "/blobs/sha256"), 0u);
  EXPECT_EQ(count_entries(root() + "/ingest"), 0u);
}

TEST_F(ImageStoreTest, SizeMismatchIsRefused) {
  const std::string data = "twelve bytes";
  Digest d = sha256_of(data);
  {  // Short.
    auto w = store().ingest(d, 100);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(data.data(), data.size()));
    auto c = w->commit();
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().context.find("size"), std::string::npos) << c.error().context;
  }
  {  // Long: refused as soon as it overflows.
    auto w = store().ingest(d, 4);
    ASSERT_TRUE(w);
    EXPECT_FALSE(w->write(data.data(), data.size()));
    EXPECT_FALSE(w->commit());
  }
  EXPECT_FALSE(store().has_blob(d));
  EXPECT_EQ(count_entries(root() + "/blobs/sha256"), 0u);
  EXPECT_EQ(count_entries(root() + "/ingest"), 0u);
}

TEST_F(ImageStoreTest, UncommittedWriterLeavesNoFile) {
  Digest d = sha256_of("abandoned");
  {
    auto w = store().ingest(d);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write("aban", 4));
    EXPECT_EQ(count_entries(root() + "/ingest"), 1u);
  }
  EXPECT_EQ(count_entries(root() + "/ingest"), 0u);
  EXPECT_FALSE(store().has_blob(d));
}

TEST_F(ImageStoreTest, ResumableIngestContinuesWhereItStopped) {
  std::string data(100000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
  Digest d = sha256_of(data);
  const size_t half = data.size() / 2;
  {
    auto w = store().ingest(d, static_cast<int64_t>(data.size()), true);
    ASSERT_TRUE(w) << w.error().message();
    EXPECT_EQ(w->offset(), 0u);
    ASSERT_TRUE(w->write(data.data(), half));
  }  // connection dropped
  EXPECT_TRUE(fs::exists(root() + "/ingest/" + d.hex + ".partial"));
  EXPECT_FALSE(store().has_blob(d));

  // Debris cleanup on open() keeps resumable downloads.
  auto reopened = ContentStore::open(root());
  ASSERT_TRUE(reopened);
  auto w = reopened->ingest(d, static_cast<int64_t>(data.size()), true);
  ASSERT_TRUE(w) << w.error().message();
  ASSERT_EQ(w->offset(), half);
  ASSERT_TRUE(w->write(data.data() + half, data.size() - half));
  auto c = w->commit();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(slurp(store().blob_path(d)), data);
  EXPECT_EQ(count_entries(root() + "/ingest"), 0u);
}

TEST_F(ImageStoreTest, ResumedIngestWithCorruptPrefixIsRefused) {
  const std::string data = "the real content of the blob";
  Digest d = sha256_of(data);
  {
    std::ofstream(root() + "/ingest/" + d.hex + ".partial") << "garbage!";
  }
  auto w = store().ingest(d, static_cast<int64_t>(data.size()), true);
  ASSERT_TRUE(w);
  ASSERT_EQ(w->offset(), 8u);
  ASSERT_TRUE(w->write(data.data() + 8, data.size() - 8));
  EXPECT_FALSE(w->commit());
  EXPECT_FALSE(store().has_blob(d));
  EXPECT_FALSE(fs::exists(root() + "/ingest/" + d.hex + ".partial")) << "bad bytes are not resumed again";
}

TEST_F(ImageStoreTest, ConcurrentResumableIngestsOfOneDigestDoNotShareAFile) {
  const std::string data = "shared layer";
  Digest d = sha256_of(data);
  auto a = store().ingest(d, -1, true);
  auto b = store().ingest(d, -1, true);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  ASSERT_TRUE(a->write(data.data(), data.size()));
  ASSERT_TRUE(b->write(data.data(), data.size()));
  ASSERT_TRUE(a->commit());
  auto cb = b->commit();
  ASSERT_TRUE(cb) << cb.error().message();
  EXPECT_EQ(slurp(store().blob_path(d)), data);
}

TEST_F(ImageStoreTest, PutBlobVerifiesAndReadBlobDetectsCorruption) {
  EXPECT_FALSE(store().put_blob(sha256_of("x"), "y"));
  const std::string data = R"({"schemaVersion":2})";
  Digest d = sha256_of(data);
  ASSERT_TRUE(store().put_blob(d, data));
  ASSERT_TRUE(store().put_blob(d, data)) << "idempotent";
  std::ofstream(store().blob_path(d)) << "tampered";
  auto r = store().read_blob(d);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().context.find(d.string()), std::string::npos);
  ASSERT_TRUE(store().remove_blob(d));
  EXPECT_FALSE(store().has_blob(d));
  EXPECT_FALSE(store().read_blob(d));
}

TEST_F(ImageStoreTest, RefsSetGetRemoveListAndSurviveReopen) {
  Digest m1 = sha256_of("manifest 1"), m2 = sha256_of("manifest 2");
  ASSERT_TRUE(store().set_ref(ref("alpine"), m1));
  ASSERT_TRUE(store().set_ref(ref("localhost:5000/a/b:tag"), m2));
  auto g = store().get_ref(ref("docker.io/library/alpine:latest"));
  ASSERT_TRUE(g);
  EXPECT_EQ(*g, m1);
  ASSERT_TRUE(store().set_ref(ref("alpine"), m2));  // retag
  EXPECT_EQ(*store().get_ref(ref("alpine")), m2);

  auto missing = store().get_ref(ref("busybox"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
  EXPECT_NE(missing.error().context.find("busybox"), std::string::npos);

  auto reopened = ContentStore::open(root());
  ASSERT_TRUE(reopened);
  auto all = reopened->refs();
  ASSERT_TRUE(all);
  std::map<std::string, Digest> want{{"docker.io/library/alpine:latest", m2}, {"localhost:5000/a/b:tag", m2}};
  EXPECT_EQ(*all, want);

  ASSERT_TRUE(reopened->remove_ref(ref("alpine")));
  EXPECT_FALSE(reopened->remove_ref(ref("alpine")));
  EXPECT_FALSE(store().get_ref(ref("alpine")));
  EXPECT_EQ(store().refs()->size(), 1u);
  // Only refs.json, no temporaries.
  for (const auto& e : fs::directory_iterator(root()))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

TEST_F(ImageStoreTest, ConcurrentProcessesDoNotLoseRefUpdates) {
  constexpr int kProcs = 3, kEach = 20;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = ContentStore::open(root());
      int bad = s ? 0 : 1;
      for (int i = 0; s && i < kEach; ++i) {
        auto r = parse_reference("app" + std::to_string(p) + ":" + std::to_string(i));
        if (!r || !s->set_ref(*r, sha256_of(std::to_string(i)))) ++bad;
      }
      ::_exit(bad == 0 ? 0 : 1);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(k, &status, 0), k);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto all = store().refs();
  ASSERT_TRUE(all) << all.error().message();
  EXPECT_EQ(all->size(), static_cast<size_t>(kProcs * kEach));
}

TEST_F(ImageStoreTest, GarbageCollectRefusesToGuessAboutAnUnreadableManifest) {
  const std::string layer = "layer";
  ASSERT_TRUE(store().put_blob(sha256_of(layer), layer));
  const std::string broken = R"({"schemaVersion":2,"config":{"digest":"nope"}})";
  ASSERT_TRUE(store().put_blob(sha256_of(broken), broken));
  ASSERT_TRUE(store().set_ref(ref("broken"), sha256_of(broken)));
  auto r = store().garbage_collect();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().context.find("broken"), std::string::npos) << r.error().context;
  EXPECT_TRUE(store().has_blob(sha256_of(layer))) << "nothing deleted";
  // A ref to a manifest that is not stored (yet) is fine.
  ASSERT_TRUE(store().set_ref(ref("broken"), sha256_of("absent")));
  auto ok = store().garbage_collect();
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_FALSE(store().has_blob(sha256_of(layer)));
}

TEST_F(ImageStoreTest, CorruptRefsFileIsAnErrorNotAnEmptyStore) {
  std::ofstream(root() + "/refs.json") << "{not json";
  auto r = store().refs();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().context.find("refs.json"), std::string::npos);
  EXPECT_FALSE(store().set_ref(ref("alpine"), sha256_of("m"))) << "must not overwrite what it cannot read";
}

TEST_F(ImageStoreTest, SnapshotsArePreparedThenPublished) {
  Digest chain = sha256_of("chain");
  EXPECT_FALSE(store().has_snapshot(chain));
  auto dir = store().prepare_snapshot();
  ASSERT_TRUE(dir) << dir.error().message();
  ASSERT_TRUE(fs::is_directory(*dir));
  std::ofstream(*dir + "/hello") << "world";
  EXPECT_FALSE(store().has_snapshot(chain));
  ASSERT_TRUE(store().publish_snapshot(*dir, chain));
  EXPECT_TRUE(store().has_snapshot(chain));
  EXPECT_EQ(store().snapshot_path(chain), root() + "/snapshots/" + chain.hex + "/fs");
  EXPECT_EQ(slurp(store().snapshot_path(chain) + "/hello"), "world");

  // A second pull of the same chain loses the race: its copy is discarded.
  auto dir2 = store().prepare_snapshot();
  ASSERT_TRUE(dir2);
  std::ofstream(*dir2 + "/hello") << "other";
  ASSERT_TRUE(store().publish_snapshot(*dir2, chain));
  EXPECT_EQ(slurp(store().snapshot_path(chain) + "/hello"), "world");
  EXPECT_EQ(count_entries(root() + "/snapshots"), 1u);

  EXPECT_FALSE(store().publish_snapshot(tmp_.path(), chain)) << "only prepared dirs";
  EXPECT_FALSE(store().discard_snapshot(root())) << "only prepared dirs";
  auto failed = store().prepare_snapshot();
  ASSERT_TRUE(failed);
  std::ofstream(*failed + "/half") << "unpack failed here";
  ASSERT_TRUE(store().discard_snapshot(*failed));
  EXPECT_FALSE(fs::exists(fs::path(*failed).parent_path()));
  ASSERT_TRUE(store().remove_snapshot(chain));
  EXPECT_FALSE(store().has_snapshot(chain));
  EXPECT_EQ(count_entries(root() + "/snapshots"), 0u);
}

TEST_F(ImageStoreTest, OpenClearsCrashDebris) {
  std::ofstream(root() + "/ingest/" + std::string(64, 'a') + "-1234.tmp") << "half a layer";
  fs::create_directories(root() + "/snapshots/.tmp-crashed/fs/etc");
  std::ofstream(root() + "/snapshots/.tmp-crashed/fs/etc/passwd") << "x";
  // A prepare in progress in a live process (this one) is not debris.
  auto live = store().prepare_snapshot();
  ASSERT_TRUE(live);
  // Nor is a download in progress.
  auto w = store().ingest(sha256_of("busy"));
  ASSERT_TRUE(w);

  auto reopened = ContentStore::open(root());
  ASSERT_TRUE(reopened) << reopened.error().message();
  EXPECT_FALSE(fs::exists(root() + "/ingest/" + std::string(64, 'a') + "-1234.tmp"));
  EXPECT_FALSE(fs::exists(root() + "/snapshots/.tmp-crashed"));
  EXPECT_TRUE(fs::exists(*live));
  EXPECT_EQ(count_entries(root() + "/ingest"), 1u);
  ASSERT_TRUE(w->write("busy", 4));
  EXPECT_TRUE(w->commit());
}

// A tiny image built by hand: config + one layer + manifest, plus an index.
struct TinyImage {
  std::string layer, config, manifest, index;
  Digest layer_d, diff_id, config_d, manifest_d, index_d, chain;
};

TinyImage make_image(const std::string& seed) {
  TinyImage t;
  t.layer = "pretend-gzip-layer-" + seed;
  t.layer_d = sha256_of(t.layer);
  t.diff_id = sha256_of("pretend-tar-" + seed);
  t.chain = chain_ids({t.diff_id})[0];
  t.config = R"({"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[")" +
             t.diff_id.string() + R"("]}})";
  t.config_d = sha256_of(t.config);
  nlohmann::json m = {{"schemaVersion", 2},
                      {"mediaType", media::kOciManifest},
                      {"config", {{"mediaType", media::kOciConfig}, {"digest", t.config_d.string()},
                                  {"size", t.config.size()}}},
                      {"layers", {{{"mediaType", media::kOciLayerGzip}, {"digest", t.layer_d.string()},
                                   {"size", t.layer.size()}}}}};
  t.manifest = m.dump();
  t.manifest_d = sha256_of(t.manifest);
  nlohmann::json idx = {{"schemaVersion", 2},
                        {"mediaType", media::kOciIndex},
                        {"manifests", {{{"mediaType", media::kOciManifest}, {"digest", t.manifest_d.string()},
                                        {"size", t.manifest.size()},
                                        {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
                                       {{"mediaType", media::kOciManifest},
                                        {"digest", sha256_of("arm64 manifest, not pulled").string()},
                                        {"size", 10},
                                        {"platform", {{"os", "linux"}, {"architecture", "arm64"}}}}}}};
  t.index = idx.dump();
  t.index_d = sha256_of(t.index);
  return t;
}

void store_image(ContentStore& s, const TinyImage& t, bool with_index) {
  ASSERT_TRUE(s.put_blob(t.layer_d, t.layer));
  ASSERT_TRUE(s.put_blob(t.config_d, t.config));
  ASSERT_TRUE(s.put_blob(t.manifest_d, t.manifest));
  if (with_index) ASSERT_TRUE(s.put_blob(t.index_d, t.index));
  auto dir = s.prepare_snapshot();
  ASSERT_TRUE(dir);
  std::ofstream(*dir + "/file") << "snapshot of " << t.layer;
  ASSERT_TRUE(s.publish_snapshot(*dir, t.chain));
}

TEST_F(ImageStoreTest, GarbageCollectKeepsReferencedImagesOnly) {
  TinyImage kept = make_image("kept"), via_index = make_image("indexed"), dropped = make_image("dropped");
  store_image(store(), kept, false);
  store_image(store(), via_index, true);
  store_image(store(), dropped, false);
  ASSERT_TRUE(store().set_ref(ref("kept:1"), kept.manifest_d));
  ASSERT_TRUE(store().set_ref(ref("indexed:1"), via_index.index_d));
  ASSERT_TRUE(store().set_ref(ref("dropped:1"), dropped.manifest_d));
  const std::string stray = "stray blob";
  ASSERT_TRUE(store().put_blob(sha256_of(stray), stray));
  std::ofstream(root() + "/ingest/" + std::string(64, 'b') + ".partial") << "abandoned";

  auto before = store().disk_usage();
  ASSERT_TRUE(before);
  EXPECT_EQ(before->blob_count, 11u);
  EXPECT_EQ(before->snapshot_count, 3u);

  ASSERT_TRUE(store().remove_ref(ref("dropped:1")));
  auto freed = store().garbage_collect();
  ASSERT_TRUE(freed) << freed.error().message();
  uint64_t expect_freed = dropped.layer.size() + dropped.config.size() + dropped.manifest.size() + stray.size() +
                          ("snapshot of " + dropped.layer).size() + std::string("abandoned").size();
  EXPECT_EQ(*freed, expect_freed);

  for (const auto* t : {&kept, &via_index}) {
    EXPECT_TRUE(store().has_blob(t->layer_d));
    EXPECT_TRUE(store().has_blob(t->config_d));
    EXPECT_TRUE(store().has_blob(t->manifest_d));
    EXPECT_TRUE(store().has_snapshot(t->chain));
  }
  EXPECT_TRUE(store().has_blob(via_index.index_d));
  EXPECT_FALSE(store().has_blob(kept.index_d)) << "never stored";
  EXPECT_FALSE(store().has_blob(dropped.layer_d));
  EXPECT_FALSE(store().has_blob(dropped.config_d));
  EXPECT_FALSE(store().has_blob(dropped.manifest_d));
  EXPECT_FALSE(store().has_snapshot(dropped.chain));
  EXPECT_FALSE(store().has_blob(sha256_of(stray)));
  EXPECT_EQ(count_entries(root() + "/ingest"), 0u);

  auto after = store().disk_usage();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->blob_count, 7u);
  EXPECT_EQ(after->snapshot_count, 2u);
  EXPECT_EQ(before->blobs + before->snapshots - after->blobs - after->snapshots,
            expect_freed - std::string("abandoned").size());

  // Nothing left to free.
  auto again = store().garbage_collect();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
}

TEST_F(ImageStoreTest, DiskUsageCountsBytes) {
  auto empty = store().disk_usage();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->blobs, 0u);
  EXPECT_EQ(empty->blob_count, 0u);
  ASSERT_TRUE(store().put_blob(sha256_of(std::string(1000, 'a')), std::string(1000, 'a')));
  ASSERT_TRUE(store().put_blob(sha256_of(std::string(24, 'b')), std::string(24, 'b')));
  auto dir = store().prepare_snapshot();
  ASSERT_TRUE(dir);
  std::ofstream(*dir + "/f") << std::string(300, 'c');
  fs::create_symlink("/etc/passwd", *dir + "/link");  // not followed, not counted
  ASSERT_TRUE(store().publish_snapshot(*dir, sha256_of("c")));
  auto u = store().disk_usage();
  ASSERT_TRUE(u);
  EXPECT_EQ(u->blobs, 1024u);
  EXPECT_EQ(u->blob_count, 2u);
  EXPECT_EQ(u->snapshots, 300u);
  EXPECT_EQ(u->snapshot_count, 1u);
}

TEST_F(ImageStoreTest, LeaseBlocksGarbageCollectionUntilReleased) {
  auto try_exclusive = [&] {
    stack::UniqueFd fd(::open((root() + "/gc.lock").c_str(), O_RDWR | O_CLOEXEC));
    return fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
  };
  {
    auto lease = store().lease();
    ASSERT_TRUE(lease) << lease.error().message();
    auto other = ContentStore::open(root());
    ASSERT_TRUE(other);
    auto second = other->lease();
    EXPECT_TRUE(second) << "leases are shared between pulls";
    EXPECT_FALSE(try_exclusive()) << "garbage_collect() would have to wait";
  }
  EXPECT_TRUE(try_exclusive());
  EXPECT_TRUE(store().garbage_collect());
}

}  // namespace
}  // namespace stack::img
