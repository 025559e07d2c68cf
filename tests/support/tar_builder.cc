#include "tests/support/tar_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <sha2.h>
#include <sys/stat.h>

#include <memory>
#include <stdexcept>

namespace stack::test {
namespace {

struct WriterFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

la_ssize_t append_cb(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

void check(archive* a, int r, const std::string& what) {
  if (r < ARCHIVE_WARN)
    throw std::runtime_error("tar builder: " + what + ": " +
                             (archive_error_string(a) ? archive_error_string(a) : "?"));
}

// Text-like data (a repeating word list with a counter) that gzip compresses
// roughly as real binaries/text do (~3-5x), generated in 64 KiB chunks.
void write_generated(archive* a, uint64_t size) {
  std::string chunk;
  uint64_t n = 0, left = size;
  while (left > 0) {
    chunk.clear();
    while (chunk.size() < 65536) {
      chunk += "line " + std::to_string(n * 2654435761u % 1000003) + " of generated layer data ";
      ++n;
    }
    size_t take = left < chunk.size() ? static_cast<size_t>(left) : chunk.size();
    if (archive_write_data(a, chunk.data(), take) < 0) check(a, ARCHIVE_FATAL, "write data");
    left -= take;
  }
}

void write_entries(archive* a, const std::vector<TarBuilder::Entry>& entries) {
  for (const auto& e : entries) {
    std::unique_ptr<archive_entry, EntryFree> ae(archive_entry_new());
    archive_entry_set_pathname(ae.get(), e.name.c_str());
    archive_entry_set_uid(ae.get(), e.uid);
    archive_entry_set_gid(ae.get(), e.gid);
    archive_entry_set_mtime(ae.get(), e.mtime, 0);
    archive_entry_set_perm(ae.get(), e.perm);
    for (const auto& [k, v] : e.xattrs) archive_entry_xattr_add_entry(ae.get(), k.c_str(), v.data(), v.size());
    if (e.hardlink) {
      archive_entry_set_filetype(ae.get(), AE_IFREG);
      archive_entry_set_hardlink(ae.get(), e.link.c_str());
      archive_entry_set_size(ae.get(), 0);
    } else {
      archive_entry_set_filetype(ae.get(), e.type);
      if (e.type == S_IFLNK) archive_entry_set_symlink(ae.get(), e.link.c_str());
      if (e.type == S_IFCHR || e.type == S_IFBLK) {
        archive_entry_set_rdevmajor(ae.get(), e.dev_major);
        archive_entry_set_rdevminor(ae.get(), e.dev_minor);
      }
      archive_entry_set_size(ae.get(), e.type == S_IFREG
                                           ? static_cast<la_int64_t>(e.generated_size ? e.generated_size
                                                                                      : e.content.size())
                                           : 0);
    }
    check(a, archive_write_header(a, ae.get()), "header " + e.name);
    if (!e.hardlink && e.type == S_IFREG) {
      if (e.generated_size) {
        write_generated(a, e.generated_size);
      } else if (!e.content.empty() && archive_write_data(a, e.content.data(), e.content.size()) < 0) {
        check(a, ARCHIVE_FATAL, "data " + e.name);
      }
    }
  }
}

std::unique_ptr<archive, WriterFree> new_writer(Compression c) {
  std::unique_ptr<archive, WriterFree> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  if (c == Compression::gzip) check(a.get(), archive_write_add_filter_gzip(a.get()), "gzip");
  if (c == Compression::zstd) check(a.get(), archive_write_add_filter_zstd(a.get()), "zstd");
  archive_write_set_bytes_in_last_block(a.get(), 1);  // no padding to 10 KiB, like Docker
  return a;
}

}  // namespace

TarBuilder::Entry& TarBuilder::add(Entry e) {
  entries_.push_back(std::move(e));
  return entries_.back();
}

TarBuilder::Entry& TarBuilder::file(const std::string& name, const std::string& content, mode_t perm) {
  return add({.name = name, .type = S_IFREG, .perm = perm, .content = content});
}
TarBuilder::Entry& TarBuilder::generated_file(const std::string& name, uint64_t size) {
  return add({.name = name, .type = S_IFREG, .perm = 0644, .generated_size = size});
}
TarBuilder::Entry& TarBuilder::dir(const std::string& name, mode_t perm) {
  return add({.name = name, .type = S_IFDIR, .perm = perm});
}
TarBuilder::Entry& TarBuilder::symlink(const std::string& name, const std::string& target) {
  return add({.name = name, .type = S_IFLNK, .perm = 0777, .link = target});
}
TarBuilder::Entry& TarBuilder::hardlink(const std::string& name, const std::string& source) {
  return add({.name = name, .type = S_IFREG, .link = source, .hardlink = true});
}
TarBuilder::Entry& TarBuilder::char_device(const std::string& name, unsigned major, unsigned minor) {
  return add({.name = name, .type = S_IFCHR, .perm = 0666, .dev_major = major, .dev_minor = minor});
}
TarBuilder::Entry& TarBuilder::block_device(const std::string& name, unsigned major, unsigned minor) {
  return add({.name = name, .type = S_IFBLK, .perm = 0660, .dev_major = major, .dev_minor = minor});
}
TarBuilder::Entry& TarBuilder::fifo(const std::string& name) {
  return add({.name = name, .type = S_IFIFO, .perm = 0644});
}
TarBuilder::Entry& TarBuilder::whiteout(const std::string& dir, const std::string& name) {
  return file(dir.empty() ? ".wh." + name : dir + "/.wh." + name, "");
}
TarBuilder::Entry& TarBuilder::opaque(const std::string& dir) {
  return file(dir.empty() ? ".wh..wh..opq" : dir + "/.wh..wh..opq", "");
}

void TarBuilder::write(const std::string& path, Compression c) const {
  auto a = new_writer(c);
  check(a.get(), archive_write_open_filename(a.get(), path.c_str()), "open " + path);
  write_entries(a.get(), entries_);
  check(a.get(), archive_write_close(a.get()), "close " + path);
}

std::string TarBuilder::bytes() const {
  std::string out;
  auto a = new_writer(Compression::none);
  check(a.get(), archive_write_open(a.get(), &out, nullptr, append_cb, nullptr), "open memory");
  write_entries(a.get(), entries_);
  check(a.get(), archive_write_close(a.get()), "close memory");
  return out;
}

std::string sha256_digest(const std::string& bytes) {
  char hex[SHA256_DIGEST_STRING_LENGTH];
  SHA256Data(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), hex);
  return std::string("sha256:") + hex;
}

}  // namespace stack::test
