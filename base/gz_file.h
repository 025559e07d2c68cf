// The one RAII owner of a zlib gzFile (gzip streams of the json-file log's
// compress option: written by the shim, read by the node's log reader).
// Header-only; its users link zlib.
#pragma once

#include <zlib.h>

#include <memory>

namespace stack {

struct GzClose {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzClose>;

}  // namespace stack
