// The one owner type for a libarchive read handle (archive_read_new /
// archive_read_free), shared by the layer unpacker, the archive loader and
// the tar importer.
#pragma once

#include <archive.h>

#include <memory>

namespace stack::img {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;

// A fresh read handle; null on ENOMEM.
inline ArchiveReader new_archive_reader() { return ArchiveReader(archive_read_new()); }

}  // namespace stack::img
