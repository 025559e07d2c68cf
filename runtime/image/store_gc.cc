// The image store's garbage collection and disk usage (store.h). Locking:
// garbage_collect() takes gc.lock exclusively (waiting for every lease, i.e.
// pulls in flight) and the refs lock, so nothing is tagged between marking
// and sweeping.
#include <sys/file.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "runtime/image/manifest.h"
#include "runtime/image/store.h"
#include "runtime/image/store_internal.h"

namespace stack::img {

namespace fs = std::filesystem;
using stack::fail;
using stack::UniqueFd;
using namespace store_internal;

namespace {

// Marks `d` (a manifest or index blob) and everything it references that the
// store holds. Unparseable manifests abort: we cannot know what they keep alive.
Result<> mark_manifest(const ContentStore& st, const Digest& d, std::set<std::string>& blobs,
                       std::set<std::string>& snaps, int depth) {
  if (depth > 8) return fail("manifest " + d.string() + ": indexes nested too deep", ELOOP);
  if (!blobs.insert(d.hex).second) return {};
  if (!st.has_blob(d)) return {};  // a ref to a manifest not (yet) here
  auto text = st.read_blob(d);
  if (!text) return tl::unexpected(text.error());
  auto j = nlohmann::json::parse(*text, nullptr, false);
  bool index = j.is_object() && (j.contains("manifests") ||
                                 (j.contains("mediaType") && j["mediaType"].is_string() &&
                                  is_index_media_type(j["mediaType"].get<std::string>())));
  if (index) {
    auto idx = parse_index(*text);
    if (!idx) return tl::unexpected(idx.error().wrap(d.string()));
    for (const auto& m : idx->manifests)
      if (st.has_blob(m.digest)) STACK_TRY(mark_manifest(st, m.digest, blobs, snaps, depth + 1));
    return {};
  }
  auto m = parse_manifest(*text);
  if (!m) return tl::unexpected(m.error().wrap(d.string()));
  blobs.insert(m->config.digest.hex);
  for (const auto& l : m->layers) blobs.insert(l.digest.hex);
  if (!st.has_blob(m->config.digest)) return {};
  auto ctext = st.read_blob(m->config.digest);
  if (!ctext) return tl::unexpected(ctext.error());
  auto cfg = parse_image_config(*ctext);
  if (!cfg) return tl::unexpected(cfg.error().wrap(m->config.digest.string()));
  for (const auto& c : chain_ids(cfg->diff_ids)) snaps.insert(c.hex);
  return {};
}

}  // namespace

Result<UniqueFd> ContentStore::lease() const {
  auto fd = lock_file(root_ + "/gc.lock", LOCK_SH);
  if (!fd) return tl::unexpected(fd.error().wrap("take image store lease"));
  return fd;
}

Result<uint64_t> ContentStore::garbage_collect() {
  // Wait for in-flight pulls (leases), then hold the refs lock so no tag is
  // added between marking and sweeping.
  auto gc_lock = lock_file(root_ + "/gc.lock", LOCK_EX);
  if (!gc_lock) return tl::unexpected(gc_lock.error().wrap("garbage collect"));
  auto lock = lock_file(root_ + "/lock", LOCK_EX);
  if (!lock) return tl::unexpected(lock.error().wrap("garbage collect"));
  auto refs = load_refs(root_);
  if (!refs) return tl::unexpected(refs.error().wrap("garbage collect"));
  std::set<std::string> live_blobs, live_snaps;
  for (const auto& [name, d] : *refs)
    STACK_TRY_CTX(mark_manifest(*this, d, live_blobs, live_snaps, 0), "garbage collect: image " + name);

  uint64_t freed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(root_ + "/blobs/sha256", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename();
    if (live_blobs.count(name)) continue;
    uint64_t bytes = tree_bytes(it->path());
    STACK_TRY_CTX(remove_tree(it->path()), "garbage collect");
    freed += bytes;
  }
  if (ec) return fail("garbage collect: list " + root_ + "/blobs/sha256: " + ec.message(), ec.value());
  for (fs::directory_iterator it(root_ + "/snapshots", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename();
    if (live_snaps.count(name) || (name.rfind(kTmpPrefix, 0) == 0 && tmp_owner_alive(name))) continue;
    uint64_t bytes = tree_bytes(it->path());
    STACK_TRY_CTX(remove_tree(it->path()), "garbage collect");
    freed += bytes;
  }
  if (ec) return fail("garbage collect: list " + root_ + "/snapshots: " + ec.message(), ec.value());
  // Abandoned downloads (partial or not) that nobody is writing.
  for (fs::directory_iterator it(root_ + "/ingest", ec), end; !ec && it != end; it.increment(ec)) {
    if (locked_by_someone(it->path())) continue;
    uint64_t bytes = tree_bytes(it->path());
    STACK_TRY_CTX(remove_tree(it->path()), "garbage collect");
    freed += bytes;
  }
  return freed;
}

Result<DiskUsage> ContentStore::disk_usage() const {
  DiskUsage u;
  std::error_code ec;
  for (fs::directory_iterator it(root_ + "/blobs/sha256", ec), end; !ec && it != end; it.increment(ec)) {
    u.blobs += tree_bytes(it->path());
    ++u.blob_count;
  }
  if (ec) return fail("disk usage: list " + root_ + "/blobs/sha256: " + ec.message(), ec.value());
  for (fs::directory_iterator it(root_ + "/snapshots", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename();
    if (name.rfind(kTmpPrefix, 0) == 0) continue;
    u.snapshots += tree_bytes(it->path());
    ++u.snapshot_count;
  }
  if (ec) return fail("disk usage: list " + root_ + "/snapshots: " + ec.message(), ec.value());
  return u;
}

}  // namespace stack::img
