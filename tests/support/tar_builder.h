// Builds layer tarballs for tests with libarchive's writer: regular files,
// directories, symlinks, hardlinks, devices, fifos, whiteouts, and names a
// real tar tool would sanitise ("../x", "/x"), compressed or not. Entries are
// recorded and written on demand, so the same layer can be produced as
// uncompressed bytes (to compute the expected diff_id) and as gzip/zstd files.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stack::test {

enum class Compression { none, gzip, zstd };

class TarBuilder {
 public:
  struct Entry {
    std::string name;
    mode_t type = 0;  // S_IFREG, S_IFDIR, ...
    mode_t perm = 0644;
    std::string content;         // regular files
    uint64_t generated_size = 0;  // regular files whose data is generated on write
    std::string link;            // symlink target or hardlink source
    bool hardlink = false;
    unsigned dev_major = 0, dev_minor = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    int64_t mtime = 1'600'000'000;
    std::map<std::string, std::string> xattrs;
  };

  // Each returns the entry so a test can adjust uid/gid/mtime/xattrs.
  Entry& file(const std::string& name, const std::string& content, mode_t perm = 0644);
  // `size` bytes of deterministic, moderately compressible data.
  Entry& generated_file(const std::string& name, uint64_t size);
  Entry& dir(const std::string& name, mode_t perm = 0755);
  Entry& symlink(const std::string& name, const std::string& target);
  Entry& hardlink(const std::string& name, const std::string& source);
  Entry& char_device(const std::string& name, unsigned major, unsigned minor);
  Entry& block_device(const std::string& name, unsigned major, unsigned minor);
  Entry& fifo(const std::string& name);
  // "dir/.wh.name" (empty file); whiteout("d", "x") -> "d/.wh.x".
  Entry& whiteout(const std::string& dir, const std::string& name);
  // "dir/.wh..wh..opq".
  Entry& opaque(const std::string& dir);

  // Writes a pax tar to `path`; throws std::runtime_error on failure.
  void write(const std::string& path, Compression c = Compression::none) const;
  // The uncompressed tar stream, as write() would produce it.
  std::string bytes() const;

 private:
  Entry& add(Entry e);
  std::vector<Entry> entries_;
};

// sha256 of `bytes` as "sha256:<hex>".
std::string sha256_digest(const std::string& bytes);

}  // namespace stack::test
