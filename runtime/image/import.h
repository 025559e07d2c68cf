// `stack image import ROOTFS.tar NAME[:TAG] --change ...`, as `docker import`:
// the tar becomes the image's single layer (stored as given: an uncompressed
// tar as application/vnd.oci.image.layer.v1.tar, a gzip/zstd one with its
// compressed media type), with a fresh config carrying the Dockerfile-style
// changes, an OCI manifest and the ref.
#pragma once

#include <string>
#include <vector>

#include "runtime/image/manifest.h"
#include "runtime/image/store.h"

namespace stack::img {

struct ImportOptions {
  std::vector<std::string> changes;  // "CMD [\"sh\"]", "ENV A=b", ...
  std::string created;               // RFC 3339; "" = now
};

struct ImportedImage {
  Reference ref;
  Digest manifest;
  Digest config;
};

Result<ImportedImage> import_rootfs(ContentStore& store, const std::string& tar_path,
                                    const std::string& name, const ImportOptions& options = {});

// Applies one Dockerfile instruction to `config`: CMD, ENTRYPOINT (JSON or
// shell form), ENV (k=v ... or the legacy "k v"), WORKDIR, USER, EXPOSE
// (port[/proto], tcp by default), LABEL k=v ..., STOPSIGNAL, VOLUME (JSON or
// space separated). Errors name the instruction.
Result<> apply_change(ImageConfig& config, const std::string& change);

}  // namespace stack::img
