// Safe extraction of one image layer (a tar, optionally gzip/zstd compressed)
// into an empty per-layer directory in the overlayfs lower-layer format.
//
// We extract ourselves instead of using archive_write_disk: every entry's
// parent is resolved with openat2(RESOLVE_IN_ROOT) against the destination,
// and the entry is then created relative to that parent fd without following
// its final component, so no name, symlink, hardlink or whiteout in a hostile
// layer can make us write outside `dest_dir`.
//
// Whiteouts are translated for overlayfs: ".wh.NAME" becomes a 0/0 character
// device NAME, ".wh..wh..opq" sets trusted.overlay.opaque=y on its directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/image/digest.h"

namespace stack::img {

struct UnpackOptions {
  // Defences against archive bombs: the layer is refused once it would
  // write more bytes of file data, or more entries, than this.
  uint64_t max_bytes = 64ull << 30;
  uint64_t max_entries = 10'000'000;
  // In a user namespace chown to unmapped ids fails with EINVAL/EPERM; with
  // this set the failure becomes a warning instead of an error.
  bool ignore_chown_errors = false;
};

struct UnpackResult {
  Digest diff_id;                     // sha256 of the uncompressed tar stream
  uint64_t entries = 0;               // tar entries processed (incl. whiteouts)
  uint64_t bytes_written = 0;         // regular file data bytes
  uint64_t xattrs_skipped = 0;        // unsupported by the filesystem or refused
  std::vector<std::string> warnings;  // devices skipped (EPERM), xattrs dropped, ...
};

// `dest_dir` must exist and should be empty (a fresh snapshot directory).
// On error the directory may hold a partial extraction; the caller discards it.
Result<UnpackResult> unpack_layer(const std::string& blob_path, const std::string& dest_dir,
                                  const UnpackOptions& options = {});

// Lexically clean a tar member name: strips leading "/" and "./", drops "."
// and empty components, resolves ".." and refuses names that would climb
// above the root. Returns the components (empty for the root itself).
Result<std::vector<std::string>> clean_layer_path(const std::string& name);

}  // namespace stack::img
