// The content-addressed image store under <root> (default /var/lib/stack/images):
//   blobs/sha256/<hex>        manifests, configs, layers; verified before they appear
//   ingest/<random>           partial downloads; never read as content
//   snapshots/<chain-id>/fs   unpacked layer chains (overlay lower dirs), shared by images
//   refs.json                 name:tag -> manifest digest (atomic rewrite)
// Nothing half-written is ever visible under blobs/, snapshots/ or refs.json:
// each is written elsewhere and renamed in. A crash leaves only ingest/ and
// snapshots/.tmp-* debris, which open() clears.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/image/digest.h"
#include "runtime/image/reference.h"
#include "base/fd.h"

namespace stack::img {

inline constexpr const char* kDefaultImageRoot = "/var/lib/stack/images";

// A blob being written. Bytes are hashed as they arrive; commit() checks the
// digest (and size when known) and only then renames the blob into place.
// Destroying an uncommitted writer removes the partial file.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;
  ~BlobWriter();
  Result<> write(const void* data, size_t n);
  // Bytes already written (a resumed ingest starts at its previous size).
  uint64_t offset() const;
  // Verify and publish. On mismatch the partial data is deleted and the error
  // names both digests.
  Result<> commit();

 private:
  friend class ContentStore;
  BlobWriter() = default;
  struct State;
  std::unique_ptr<State> s_;
};

struct DiskUsage {
  uint64_t blobs = 0;      // bytes
  uint64_t snapshots = 0;  // bytes
  size_t blob_count = 0;
  size_t snapshot_count = 0;
};

class ContentStore {
 public:
  // Creates the layout if needed and clears crash debris.
  static Result<ContentStore> open(const std::string& root = kDefaultImageRoot);

  const std::string& root() const { return root_; }
  std::string blob_path(const Digest& d) const;
  bool has_blob(const Digest& d) const;
  // `expected_size` < 0: unknown. `resumable`: keep the partial file under a
  // name derived from the digest so a later ingest of the same digest resumes.
  Result<BlobWriter> ingest(const Digest& expected, int64_t expected_size = -1, bool resumable = false);
  Result<> put_blob(const Digest& expected, const std::string& bytes);
  Result<std::string> read_blob(const Digest& d) const;  // small blobs (manifests, configs)
  Result<> remove_blob(const Digest& d);

  // Names.
  Result<> set_ref(const Reference& ref, const Digest& manifest);
  Result<Digest> get_ref(const Reference& ref) const;  // ENOENT: "image ... not found"
  Result<> remove_ref(const Reference& ref);
  Result<std::map<std::string, Digest>> refs() const;  // Reference::string() -> manifest
  // When the name was last set (pulled, loaded, tagged), in ms since the
  // epoch; none for a name set before the store kept times.
  Result<std::optional<int64_t>> tagged_at(const Reference& ref) const;

  // Snapshots: "<root>/snapshots/<chain-id>/fs". prepare() returns a fresh
  // private directory to unpack into; publish() renames it into place (or
  // discards it when another pull won the race).
  // prepare_snapshot() returns "<root>/snapshots/.tmp-<pid>-<rand>/fs": unpack
  // straight into it and pass the same string to publish_snapshot().
  // snapshot_path() is the published ".../<chain-hex>/fs" (an overlay lower dir).
  std::string snapshot_path(const Digest& chain_id) const;
  bool has_snapshot(const Digest& chain_id) const;
  Result<std::string> prepare_snapshot();
  Result<> publish_snapshot(const std::string& prepared, const Digest& chain_id);
  // Drops a prepared snapshot that will not be published (a failed unpack).
  Result<> discard_snapshot(const std::string& prepared);
  Result<> remove_snapshot(const Digest& chain_id);

  // Everything not reachable from a ref (manifests -> config + layers ->
  // snapshots of their chains) is removed, as are abandoned ingest files.
  // Waits for leases (below). Returns bytes freed.
  Result<uint64_t> garbage_collect();
  // A pull or import holds a lease (a shared flock on <root>/gc.lock, kept
  // while the returned fd lives) from its first blob until set_ref(), so a
  // concurrent garbage_collect() cannot remove content not yet named by a ref.
  Result<stack::UniqueFd> lease() const;
  Result<DiskUsage> disk_usage() const;

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace stack::img
