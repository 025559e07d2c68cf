#include "runtime/image/archive_load.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "runtime/image/archive_reader.h"
#include "runtime/image/manifest.h"
#include "runtime/image/reference.h"
#include "base/fd.h"

namespace stack::img {

using stack::fail;
using stack::fail_errno;

namespace fs = std::filesystem;
using nlohmann::json;
using stack::UniqueFd;

namespace {

constexpr size_t kMaxJson = 16 << 20;  // manifests, configs, indexes
constexpr int kMaxLinkHops = 8;

// libarchive's errno is a real one only for I/O; format problems carry
// EILSEQ (libarchive's private ARCHIVE_ERRNO_FILE_FORMAT) or -1, whose
// strerror would mislead.
int archive_code(archive* a) {
  int e = archive_errno(a);
  return e > 0 && e != EILSEQ ? e : 0;
}

using ArchivePtr = ArchiveReader;

// Lexically cleaned archive path ("./a//b" -> "a/b"); error when it is
// absolute or climbs out with "..".
Result<std::string> clean_entry(const std::string& name) {
  if (!name.empty() && name[0] == '/')
    return fail("archive entry \"" + name + "\": absolute path refused");
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string::npos) j = name.size();
    std::string c = name.substr(i, j - i);
    i = j + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") return fail("archive entry \"" + name + "\": path with \"..\" refused");
    parts.push_back(c);
  }
  std::string out;
  for (auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// A symlink target resolved lexically against its entry's directory; error
// when it escapes the archive.
Result<std::string> resolve_link(const std::string& entry, const std::string& target) {
  if (!target.empty() && target[0] == '/')
    return fail("archive entry \"" + entry + "\": absolute symlink target refused");
  std::vector<std::string> parts;
  std::string dir = entry.find('/') == std::string::npos ? "" : entry.substr(0, entry.rfind('/'));
  std::string joined = dir.empty() ? target : dir + "/" + target;
  size_t i = 0;
  while (i <= joined.size()) {
    size_t j = joined.find('/', i);
    if (j == std::string::npos) j = joined.size();
    std::string c = joined.substr(i, j - i);
    i = j + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (parts.empty())
        return fail("archive entry \"" + entry + "\": symlink to \"" + target + "\" leaves the archive");
      parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  std::string out;
  for (auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

struct FileInfo {
  Digest digest;
  int64_t size = 0;
};

// Reads `fd` to its end in 64 KiB chunks, handing each to `chunk`, which may
// stop the read by returning an error.
Result<> read_chunks(int fd, const std::string& what, const std::function<Result<>(const char*, size_t)>& chunk) {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + what);
    }
    if (n == 0) return {};
    STACK_TRY(chunk(buf, static_cast<size_t>(n)));
  }
}

Result<FileInfo> hash_fd(int fd, const std::string& what) {
  Sha256 h;
  int64_t total = 0;
  STACK_TRY(read_chunks(fd, what, [&](const char* p, size_t n) -> Result<> {
    h.update(p, n);
    total += static_cast<int64_t>(n);
    return {};
  }));
  return FileInfo{h.finish(), total};
}

Result<std::string> read_small(int fd, const std::string& what) {
  std::string out;
  STACK_TRY(read_chunks(fd, what, [&](const char* p, size_t n) -> Result<> {
    out.append(p, n);
    if (out.size() > kMaxJson) return fail(what + ": larger than 16 MiB", EFBIG);
    return {};
  }));
  return out;
}

// Where the image's files come from. Regular files only; `allow_links` lets
// docker-save's deduplicating "layer.tar -> ../<id>/layer.tar" links resolve
// (inside the archive only).
class Source {
 public:
  virtual ~Source() = default;
  virtual bool exists(const std::string& name) const = 0;
  virtual Result<UniqueFd> open(const std::string& name, bool allow_links) const = 0;
  virtual Result<FileInfo> info(const std::string& name, bool allow_links) const {
    auto fd = open(name, allow_links);
    if (!fd) return tl::unexpected(fd.error());
    return hash_fd(fd->get(), name);
  }
  Result<std::string> read(const std::string& name) const {
    auto fd = open(name, false);
    if (!fd) return tl::unexpected(fd.error());
    return read_small(fd->get(), name);
  }
};

// An OCI layout directory. Every lookup is openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS): a symlink anywhere in the path is refused, so a
// layout cannot make us read (and store) a host file.
class DirSource : public Source {
 public:
  explicit DirSource(UniqueFd dir) : dir_(std::move(dir)) {}
  bool exists(const std::string& name) const override {
    struct stat st;
    return ::fstatat(dir_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  }
  Result<UniqueFd> open(const std::string& name, bool) const override {
    struct open_how how {};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(::syscall(SYS_openat2, dir_.get(), name.c_str(), &how, sizeof how));
    if (fd < 0) {
      if (errno == ELOOP) return fail("layout entry \"" + name + "\": symlink refused", ELOOP);
      if (errno == EXDEV) return fail("layout entry \"" + name + "\": leaves the layout", EXDEV);
      return fail_errno("layout entry \"" + name + "\"");
    }
    UniqueFd f(fd);
    struct stat st;
    if (::fstat(fd, &st) != 0) return fail_errno("stat layout entry \"" + name + "\"");
    if (!S_ISREG(st.st_mode))
      return fail("layout entry \"" + name + "\": not a regular file");
    ::fcntl(fd, F_SETFL, O_RDONLY);
    return f;
  }

 private:
  UniqueFd dir_;
};

// A tar (any compression libarchive knows), spooled entry by entry into a
// private temp dir under the store (same filesystem; cleared on scope exit
// and, after a crash, by ContentStore::open with the rest of ingest/).
// Entry names never become paths: files are numbered.
class TarSource : public Source {
 public:
  ~TarSource() override {
    std::error_code ec;
    if (!tmp_.empty()) fs::remove_all(tmp_, ec);
  }
  static Result<std::unique_ptr<TarSource>> extract(const std::string& path, const std::string& store_root) {
    auto src = std::make_unique<TarSource>();
    std::string tmpl = store_root + "/ingest/load-XXXXXX";
    if (!::mkdtemp(tmpl.data())) return fail_errno("create " + tmpl);
    src->tmp_ = tmpl;
    // ContentStore::open in another process clears ingest/ entries nobody
    // holds a lock on; ours is held until the load is done.
    src->lock_ = UniqueFd(::open(tmpl.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!src->lock_ || ::flock(src->lock_.get(), LOCK_EX) != 0) return fail_errno("lock " + tmpl);
    ArchivePtr a = new_archive_reader();
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    // "-": standard input (libarchive reads fd 0 for a null name).
    const char* name_arg = path == "-" ? nullptr : path.c_str();
    if (archive_read_open_filename(a.get(), name_arg, 1 << 16) != ARCHIVE_OK)
      return fail(path + ": " + archive_error_string(a.get()), archive_code(a.get()));
    archive_entry* e = nullptr;
    int n = 0;
    for (;;) {
      int rc = archive_read_next_header(a.get(), &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN)
        return fail(path + ": not a readable tar: " + archive_error_string(a.get()));
      const char* raw = archive_entry_pathname(e);
      std::string rawname = raw ? raw : "";
      auto name = clean_entry(rawname);
      if (!name) return tl::unexpected(name.error());
      if (name->empty()) continue;
      if (const char* hl = archive_entry_hardlink(e)) {
        auto t = clean_entry(hl);
        if (!t) return tl::unexpected(t.error());
        src->links_[*name] = *t;
        continue;
      }
      switch (archive_entry_filetype(e)) {
        case AE_IFDIR:
          continue;
        case AE_IFLNK: {
          const char* t = archive_entry_symlink(e);
          auto target = resolve_link(*name, t ? t : "");
          if (!target) return tl::unexpected(target.error());
          src->links_[*name] = *target;
          continue;
        }
        case AE_IFREG:
          break;
        default:
          return fail("archive entry \"" + rawname + "\": not a file or directory");
      }
      std::string file = src->tmp_ + "/" + std::to_string(n++);
      UniqueFd out(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!out) return fail_errno("create " + file);
      int64_t total = 0;
      const void* buf;
      size_t len;
      la_int64_t off;
      for (;;) {
        int r = archive_read_data_block(a.get(), &buf, &len, &off);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN)
          return fail("archive entry \"" + rawname + "\": " + archive_error_string(a.get()), EIO);
        // Sparse entries: data blocks come with offsets; write where they belong.
        if (off != total && ::lseek(out.get(), off, SEEK_SET) < 0) return fail_errno("seek " + file);
        const char* p = static_cast<const char*>(buf);
        for (size_t left = len; left > 0;) {
          ssize_t w = ::write(out.get(), p, left);
          if (w < 0) {
            if (errno == EINTR) continue;
            return fail_errno("write " + file);
          }
          p += w;
          left -= w;
        }
        total = off + static_cast<int64_t>(len);
      }
      // Hash what was written (sparse holes included) rather than the blocks.
      UniqueFd rd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
      if (!rd) return fail_errno("open " + file);
      auto fi = hash_fd(rd.get(), rawname);
      if (!fi) return tl::unexpected(fi.error());
      src->files_[*name] = {file, *fi};
    }
    return src;
  }

  bool exists(const std::string& name) const override {
    return files_.count(name) || links_.count(name);
  }
  Result<UniqueFd> open(const std::string& name, bool allow_links) const override {
    auto f = lookup(name, allow_links);
    if (!f) return tl::unexpected(f.error());
    UniqueFd fd(::open((*f)->first.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno("open spooled entry \"" + name + "\"");
    return fd;
  }
  Result<FileInfo> info(const std::string& name, bool allow_links) const override {
    auto f = lookup(name, allow_links);
    if (!f) return tl::unexpected(f.error());
    return (*f)->second;
  }
  std::string spooled_path(const std::string& name) const {
    auto f = lookup(name, true);
    return f ? (*f)->first : "";
  }

 private:
  using Entry = std::pair<std::string, FileInfo>;
  Result<const Entry*> lookup(std::string name, bool allow_links) const {
    auto c = clean_entry(name);
    if (!c) return tl::unexpected(c.error());
    name = *c;
    for (int hop = 0; hop <= kMaxLinkHops; hop++) {
      if (auto it = files_.find(name); it != files_.end()) return &it->second;
      auto l = links_.find(name);
      if (l == links_.end()) return fail("archive entry \"" + name + "\": missing", ENOENT);
      if (!allow_links) return fail("archive entry \"" + name + "\": link refused", ELOOP);
      name = l->second;
    }
    return fail("archive entry \"" + name + "\": too many levels of links", ELOOP);
  }
  std::string tmp_;
  UniqueFd lock_;  // flock on tmp_, see extract()
  std::map<std::string, Entry> files_;
  std::map<std::string, std::string> links_;
};

// One blob to put in the store, already verified against its source.
struct PendingBlob {
  Digest digest;
  int64_t size = 0;
  std::string entry;     // source entry name (links allowed for docker-save layers)
  bool allow_links = false;
  std::string bytes;     // set for blobs we generate (docker-save manifests)
};

struct Plan {
  std::vector<PendingBlob> blobs;
  std::vector<std::pair<Reference, Digest>> refs;
  std::vector<LoadedImage> images;
};

std::string hex_of_blob_name(const std::string& name) {
  // "blobs/sha256/<hex>" or "<hex>.json" (the older docker-save config name).
  auto slash = name.rfind('/');
  std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  if (base.size() > 5 && base.substr(base.size() - 5) == ".json") base.resize(base.size() - 5);
  if (base.size() != 64) return "";
  for (char c : base)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return "";
  return base;
}

Result<> plan_docker_save(const Source& src, const TarSource* tar, Plan& plan) {
  auto text = src.read("manifest.json");
  if (!text) return tl::unexpected(text.error());
  json m = json::parse(*text, nullptr, false);
  if (!m.is_array()) return fail("manifest.json: not a JSON array");
  for (size_t k = 0; k < m.size(); k++) {
    const json& item = m[k];
    std::string where = "manifest.json[" + std::to_string(k) + "]";
    if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string() ||
        !item.contains("Layers") || !item["Layers"].is_array())
      return fail(where + ": needs a Config string and a Layers array");
    std::string cfg_name = item["Config"];
    auto cfg_bytes = src.read(cfg_name);
    if (!cfg_bytes) return tl::unexpected(cfg_bytes.error().wrap(where + ".Config"));
    Digest cfg_digest = sha256_of(*cfg_bytes);
    if (auto hex = hex_of_blob_name(cfg_name); !hex.empty() && hex != cfg_digest.hex)
      return fail("archive entry \"" + cfg_name + "\": content digest " + cfg_digest.string() +
                  " does not match its name");
    auto cfg = parse_image_config(*cfg_bytes);
    if (!cfg) return tl::unexpected(cfg.error().wrap("archive entry \"" + cfg_name + "\""));
    const json& layers = item["Layers"];
    if (layers.size() != cfg->diff_ids.size())
      return fail(where + ": " + std::to_string(layers.size()) + " layers but config " + cfg_name + " has " +
                  std::to_string(cfg->diff_ids.size()) + " rootfs.diff_ids");
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", media::kOciManifest},
                     {"config", {{"mediaType", media::kOciConfig},
                                 {"digest", cfg_digest.string()},
                                 {"size", cfg_bytes->size()}}},
                     {"layers", json::array()}};
    plan.blobs.push_back({cfg_digest, static_cast<int64_t>(cfg_bytes->size()), "", false, *cfg_bytes});
    for (size_t i = 0; i < layers.size(); i++) {
      if (!layers[i].is_string()) return fail(where + ".Layers[" + std::to_string(i) + "]: not a string");
      std::string lname = layers[i];
      auto fi = src.info(lname, true);
      if (!fi) return tl::unexpected(fi.error().wrap(where + ".Layers[" + std::to_string(i) + "]"));
      std::string mt = media::kOciLayerTar;
      Digest diff = fi->digest;
      if (fi->digest != cfg->diff_ids[i]) {
        // A compressed layer (newer Docker may keep the registry's blob):
        // its uncompressed digest must still be the diff id.
        std::string path = tar ? tar->spooled_path(lname) : "";
        if (!path.empty()) {
          auto d = diff_id_of(path);
          if (d && !d->compression.empty()) {
            diff = d->diff_id;
            mt = d->compression == "zstd" ? media::kOciLayerZstd : media::kOciLayerGzip;
          }
        }
      }
      if (diff != cfg->diff_ids[i])
        return fail("archive entry \"" + lname + "\": digest " + diff.string() +
                    " does not match config rootfs.diff_ids[" + std::to_string(i) + "] " +
                    cfg->diff_ids[i].string());
      if (auto hex = hex_of_blob_name(lname); !hex.empty() && lname.find("blobs/") != std::string::npos &&
                                              hex != fi->digest.hex)
        return fail("archive entry \"" + lname + "\": content digest " + fi->digest.string() +
                    " does not match its name");
      manifest["layers"].push_back({{"mediaType", mt}, {"digest", fi->digest.string()}, {"size", fi->size}});
      plan.blobs.push_back({fi->digest, fi->size, lname, true, ""});
    }
    std::string mbytes = manifest.dump();
    Digest mdig = sha256_of(mbytes);
    plan.blobs.push_back({mdig, static_cast<int64_t>(mbytes.size()), "", false, mbytes});
    LoadedImage img{{}, mdig, cfg_digest};
    if (item.contains("RepoTags") && item["RepoTags"].is_array()) {
      for (auto& t : item["RepoTags"]) {
        if (!t.is_string()) continue;
        auto ref = parse_reference(t.get<std::string>());
        if (!ref) return tl::unexpected(ref.error().wrap(where + ".RepoTags"));
        plan.refs.emplace_back(*ref, mdig);
        img.names.push_back(ref->familiar());
      }
    }
    plan.images.push_back(std::move(img));
  }
  return {};
}

// Verifies one descriptor's blob in the layout (size + digest) and queues it.
Result<> plan_oci_blob(const Source& src, const Descriptor& d, Plan& plan) {
  std::string name = "blobs/" + d.digest.algorithm + "/" + d.digest.hex;
  auto fi = src.info(name, false);
  if (!fi) return tl::unexpected(fi.error());
  if (fi->digest != d.digest)
    return fail("layout entry \"" + name + "\": content digest " + fi->digest.string() +
                " does not match " + d.digest.string());
  if (d.size > 0 && fi->size != d.size)
    return fail("layout entry \"" + name + "\": size " + std::to_string(fi->size) +
                " does not match descriptor size " + std::to_string(d.size));
  plan.blobs.push_back({d.digest, fi->size, name, false, ""});
  return {};
}

Result<Digest> plan_oci_node(const Source& src, const Descriptor& d, Plan& plan, int depth) {
  if (depth > 4) return fail("index " + d.digest.string() + ": nested too deeply", ELOOP);
  STACK_TRY(plan_oci_blob(src, d, plan));
  std::string name = "blobs/" + d.digest.algorithm + "/" + d.digest.hex;
  auto bytes = src.read(name);
  if (!bytes) return tl::unexpected(bytes.error());
  json j = json::parse(*bytes, nullptr, false);
  bool is_index = is_index_media_type(d.media_type) ||
                  (d.media_type.empty() && j.is_object() && j.contains("manifests"));
  if (is_index) {
    auto idx = parse_index(*bytes, d.media_type);
    if (!idx) return tl::unexpected(idx.error().wrap("layout entry \"" + name + "\""));
    size_t present = 0;
    for (auto& child : idx->manifests) {
      // Layouts of one platform of a multi-arch image list the others too.
      if (!src.exists("blobs/" + child.digest.algorithm + "/" + child.digest.hex)) continue;
      auto r = plan_oci_node(src, child, plan, depth + 1);
      if (!r) return tl::unexpected(r.error());
      present++;
    }
    if (present == 0) return fail("layout entry \"" + name + "\": none of its manifests is in the layout", ENOENT);
    return Digest{};
  }
  auto m = parse_manifest(*bytes, d.media_type);
  if (!m) return tl::unexpected(m.error().wrap("layout entry \"" + name + "\""));
  STACK_TRY(plan_oci_blob(src, m->config, plan));
  for (auto& l : m->layers) STACK_TRY(plan_oci_blob(src, l, plan));
  return m->config.digest;
}

Result<> plan_oci_layout(const Source& src, Plan& plan) {
  auto layout = src.read("oci-layout");
  if (!layout) return tl::unexpected(layout.error());
  json lj = json::parse(*layout, nullptr, false);
  if (!lj.is_object() || !lj.contains("imageLayoutVersion") || !lj["imageLayoutVersion"].is_string())
    return fail("oci-layout: no imageLayoutVersion");
  auto text = src.read("index.json");
  if (!text) return tl::unexpected(text.error());
  auto idx = parse_index(*text, media::kOciIndex);
  if (!idx) return tl::unexpected(idx.error().wrap("index.json"));
  for (auto& d : idx->manifests) {
    auto cfg = plan_oci_node(src, d, plan, 0);
    if (!cfg) return tl::unexpected(cfg.error());
    LoadedImage img{{}, d.digest, *cfg};
    // containerd (and Docker 25+) put the full name here; the OCI annotation
    // may be a full reference too, or just a tag (then there is no repository
    // to attach it to, and the image loads untagged).
    std::string name;
    if (auto it = d.annotations.find("io.containerd.image.name"); it != d.annotations.end()) name = it->second;
    else if (auto it2 = d.annotations.find("org.opencontainers.image.ref.name"); it2 != d.annotations.end())
      name = it2->second;
    if (!name.empty() && (name.find(':') != std::string::npos || name.find('/') != std::string::npos)) {
      auto ref = parse_reference(name);
      if (!ref) return tl::unexpected(ref.error().wrap("index.json annotation"));
      plan.refs.emplace_back(*ref, d.digest);
      img.names.push_back(ref->familiar());
    }
    plan.images.push_back(std::move(img));
  }
  return {};
}

Result<> copy_into_store(ContentStore& store, const Source& src, const PendingBlob& b) {
  if (!b.entry.empty() || b.bytes.empty()) {
    auto fd = src.open(b.entry, b.allow_links);
    if (!fd) return tl::unexpected(fd.error());
    auto w = store.ingest(b.digest, b.size);
    if (!w) return tl::unexpected(w.error());
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd->get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail_errno("read " + b.entry);
      }
      if (n == 0) break;
      STACK_TRY(w->write(buf, n));
    }
    return w->commit();
  }
  return store.put_blob(b.digest, b.bytes);
}

}  // namespace

Result<DiffIdResult> diff_id_of(const std::string& path) {
  ArchivePtr a = new_archive_reader();
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return fail(path + ": " + archive_error_string(a.get()), archive_code(a.get()));
  archive_entry* e = nullptr;
  int rc = archive_read_next_header(a.get(), &e);
  DiffIdResult out;
  Sha256 h;
  if (rc == ARCHIVE_OK) {
    const void* buf;
    size_t len;
    la_int64_t off;
    for (;;) {
      int r = archive_read_data_block(a.get(), &buf, &len, &off);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) return fail(path + ": " + archive_error_string(a.get()), EIO);
      h.update(buf, len);
    }
  } else if (rc != ARCHIVE_EOF) {  // an empty file is raw with no entry
    return fail(path + ": " + archive_error_string(a.get()), EIO);
  }
  if (archive_filter_count(a.get()) > 1) {
    int code = archive_filter_code(a.get(), 0);
    out.compression = code == ARCHIVE_FILTER_GZIP ? "gzip" : code == ARCHIVE_FILTER_ZSTD ? "zstd"
                                                                                          : archive_filter_name(a.get(), 0);
  }
  out.diff_id = h.finish();
  return out;
}

Result<std::vector<LoadedImage>> load_archive(ContentStore& store, const std::string& path) {
  struct stat st {};
  if (path != "-" && ::stat(path.c_str(), &st) != 0) return fail_errno("load " + path);
  std::unique_ptr<Source> src;
  const TarSource* tar = nullptr;
  if (path != "-" && S_ISDIR(st.st_mode)) {
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return fail_errno("open " + path);
    src = std::make_unique<DirSource>(std::move(dir));
  } else {
    auto t = TarSource::extract(path, store.root());
    if (!t) return tl::unexpected(t.error().wrap("load " + path));
    tar = t->get();
    src = std::move(*t);
  }
  Plan plan;
  Result<> planned = src->exists("manifest.json") ? plan_docker_save(*src, tar, plan)
                     : src->exists("index.json")  ? plan_oci_layout(*src, plan)
                                                  : Result<>(fail("neither manifest.json (docker save) nor "
                                                                  "index.json (OCI layout) found"));
  if (!planned) return tl::unexpected(planned.error().wrap("load " + path));

  // Store: blobs first (each verified by ingest), then names. Blobs this load
  // added are removed again if anything fails, so a refused archive leaves
  // nothing behind.
  std::vector<Digest> added;
  std::set<std::string> seen;
  auto rollback = [&](const Error& e) -> Result<std::vector<LoadedImage>> {
    for (auto& d : added) (void)store.remove_blob(d);
    return tl::unexpected(e.wrap("load " + path));
  };
  for (auto& b : plan.blobs) {
    if (!seen.insert(b.digest.hex).second || store.has_blob(b.digest)) continue;
    auto ok = copy_into_store(store, *src, b);
    if (!ok) return rollback(ok.error());
    added.push_back(b.digest);
  }
  for (auto& [ref, d] : plan.refs) {
    auto ok = store.set_ref(ref, d);
    if (!ok) return rollback(ok.error());
  }
  return plan.images;
}

}  // namespace stack::img
