// `stack image load`: images from a `docker save` archive (manifest.json +
// <id>.json configs + layer tars; newer Docker also writes an OCI layout
// alongside) or from an OCI image layout (a directory, or a tar of one:
// oci-layout, index.json, blobs/sha256/<hex>).
//
// Everything is verified before anything is stored: entry names may not
// climb out of the archive, OCI blobs may not be symlinks and must hash to
// their names and descriptors, docker-save layers must hash to the config's
// rootfs.diff_ids. Blobs then go through ContentStore::ingest (verified
// again); on any failure the blobs this load added are removed, so a refused
// archive leaves nothing in the store.
#pragma once

#include <string>
#include <vector>

#include "runtime/image/digest.h"
#include "runtime/image/store.h"

namespace stack::img {

struct LoadedImage {
  std::vector<std::string> names;  // familiar names tagged ("demo:1"); empty when untagged
  Digest manifest;                 // what the names point at (a manifest or an index)
  Digest config;                   // image id (empty hex for an index)
};

// `path`: a tar (optionally gzip/zstd/xz compressed; "-" reads it from
// standard input) or a directory holding an OCI layout.
Result<std::vector<LoadedImage>> load_archive(ContentStore& store, const std::string& path);

// sha256 of the uncompressed bytes of a possibly compressed file (a layer's
// diff id), and whether it was compressed (gzip/zstd/...: `compression` names
// the filter, "" for none).
struct DiffIdResult {
  Digest diff_id;
  std::string compression;
};
Result<DiffIdResult> diff_id_of(const std::string& path);

}  // namespace stack::img
