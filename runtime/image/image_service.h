// High-level image operations over the content store, shared by the `stack`
// CLI and (later) stackd: resolve a user's name to a manifest + config, list,
// inspect, remove (untag, then free what only that image used), prune, and
// prepare an image's layers as overlay lower dirs.
//
// Ownership: ImageService owns its ContentStore. Everything it returns is a
// value; the snapshot directories returned by ensure_unpacked() belong to the
// store (shared by every image with the same layer chain) and must be mounted
// read-only (as overlay lowers), never written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/image/manifest.h"
#include "runtime/image/store.h"

namespace stack::img {

// A name resolved to the single-platform manifest the host runs.
struct ResolvedImage {
  std::vector<std::string> names;  // familiar names pointing at `top` ("alpine:latest")
  Digest top;                      // what the ref points at (a manifest or an index)
  Digest manifest_digest;          // the platform manifest (== top unless top is an index)
  Manifest manifest;
  std::string manifest_json;
  Digest config_digest;            // the image id
  ImageConfig config;
  std::string config_json;
};

struct ImageSummary {
  std::string name;    // familiar "repo:tag"
  Digest manifest;     // what the ref points at
  std::string id;      // config digest hex, first 12 chars (as `docker images`); "<broken>"
                       // when the manifest or config cannot be read
  uint64_t size = 0;   // config + layer blob bytes
  std::string created; // from the config, RFC 3339
};

struct RemoveReport {
  std::vector<std::string> untagged;  // familiar names
  std::vector<Digest> deleted_blobs;
  std::vector<Digest> deleted_snapshots;  // chain ids
};

class ImageService {
 public:
  static Result<ImageService> open(const std::string& root = kDefaultImageRoot);
  explicit ImageService(ContentStore store) : store_(std::move(store)) {}

  ContentStore& store() { return store_; }
  const ContentStore& store() const { return store_; }

  // `name` is a reference ("demo:1", "localhost:5000/a@sha256:..") or an image
  // id prefix (config digest hex, at least 4 chars, optionally "sha256:").
  Result<ResolvedImage> resolve(const std::string& name) const;

  Result<std::vector<ImageSummary>> list() const;
  // Pretty JSON: {"Id", "RepoTags", "Digest", "Manifest", "Config", "Size", "Created"}.
  Result<std::string> inspect(const std::string& name) const;

  // Untags `name` (by id: every name of that image). When the last ref to a
  // manifest goes, the blobs and snapshots no other image uses are deleted at
  // once; layers shared with other images stay.
  Result<RemoveReport> remove(const std::string& name);
  // Everything unreachable from a ref. Returns bytes freed.
  Result<uint64_t> prune();

  // Unpacks any missing layer of `name` into the store's snapshots (keyed by
  // chain id, verified against the config's diff_ids) and returns the snapshot
  // dirs top-first, as overlay's lowerdir wants them.
  Result<std::vector<std::string>> ensure_unpacked(const std::string& name);
  // The image config the orchestrator builds a container spec from.
  Result<ImageConfig> image_runtime_config(const std::string& name) const;

 private:
  Result<ResolvedImage> resolve_digest(const Digest& top) const;
  // Every blob digest (hex) and chain id (hex) reachable from `top`.
  Result<> reachable(const Digest& top, std::vector<Digest>& blobs, std::vector<Digest>& chains) const;

  ContentStore store_;
};

// Short id as `docker images` prints it.
inline std::string short_id(const Digest& d) { return d.hex.substr(0, 12); }

}  // namespace stack::img
