// The content-addressed image store (layout and guarantees: store.h).
//
// Who owns what:
//  - A BlobWriter owns its ingest file and an exclusive flock on it while it
//    lives, so open()/garbage_collect() in another process never removes a
//    download in progress, and two resumable ingests of one digest never
//    write the same file.
//  - refs.json is rewritten (tmp + rename) under an exclusive flock on
//    <root>/lock, so concurrent set_ref/remove_ref calls don't lose updates.
//  - Prepared snapshots are named .tmp-<pid>-<random>; open() removes only
//    those whose process is gone.
#include "base/io.h"
#include "runtime/image/store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "runtime/image/manifest.h"
#include "runtime/image/store_internal.h"

namespace stack::img {

namespace fs = std::filesystem;
using stack::fail;
using stack::fail_errno;
using stack::UniqueFd;
using namespace store_internal;

namespace {

constexpr const char* kPartialSuffix = ".partial";
constexpr size_t kMaxSmallBlob = 64u << 20;  // read_blob is for manifests/configs

// The rest of `fd`, for blobs and files the caller has already size-checked.
Result<std::string> read_fd(int fd, const std::string& path) {
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + path);
    }
    if (r == 0) return out;
    out.append(buf, static_cast<size_t>(r));
  }
}

std::string random_hex(size_t bytes = 8) {
  unsigned char buf[16];
  bytes = std::min(bytes, sizeof buf);
  if (::getrandom(buf, bytes, 0) != static_cast<ssize_t>(bytes)) {
    // getrandom cannot fail for <= 256 bytes once the pool is ready; fall back anyway.
    for (size_t i = 0; i < bytes; ++i) buf[i] = static_cast<unsigned char>(::rand());
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    out.push_back(kHex[buf[i] >> 4]);
    out.push_back(kHex[buf[i] & 15]);
  }
  return out;
}

Result<> mkdir_p(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return fail_errno("stat " + path);
    if (!S_ISDIR(st.st_mode)) return fail("create " + path + ": exists and is not a directory", ENOTDIR);
    return {};
  }
  return fail_errno("create directory " + path);
}

// mkdir -p: missing parents get 0755 (as mkdir -p under umask 022; the
// store's own directory is 0700, which is what keeps its contents private),
// so a store under a fresh /var/lib/stack works before any daemon made it.
Result<> mkdir_parents(const std::string& path, mode_t mode) {
  auto parent = fs::path(path).parent_path();
  if (!parent.empty() && parent != fs::path(path) && parent != parent.root_path()) {
    struct stat st {};
    if (::stat(parent.c_str(), &st) != 0) {
      if (errno != ENOENT) return fail_errno("stat " + parent.string());
      STACK_TRY(mkdir_parents(parent.string(), 0755));
    }
  }
  return mkdir_p(path, mode);
}

// Clears every permission bit of the directory `path` that `mode` lacks; a
// directory that is already as strict is left alone (no needless chmod).
Result<> restrict_mode(const std::string& path, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat " + path);
  mode_t want = st.st_mode & 07777 & mode;
  if (want == (st.st_mode & 07777)) return {};
  if (::fchmod(fd.get(), want) != 0) return fail_errno("restrict the mode of " + path);
  return {};
}

Result<> fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno("open " + dir);
  if (::fsync(fd.get()) != 0) return fail_errno("fsync " + dir);
  return {};
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// Shared with store_gc.cc (store_internal.h).
namespace store_internal {

// True when some live process holds a lock on `path` (an active ingest).
bool locked_by_someone(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) return false;
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return errno == EWOULDBLOCK;
  return false;  // our lock is dropped when fd closes
}

// ".tmp-<pid>-<rand>" whose pid still runs: a prepare in progress, keep it.
bool tmp_owner_alive(const std::string& name) {
  std::string rest = name.substr(std::string(kTmpPrefix).size());
  auto dash = rest.find('-');
  if (dash == std::string::npos || dash == 0) return false;
  pid_t pid = 0;
  for (size_t i = 0; i < dash; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(rest[i]))) return false;
    pid = pid * 10 + (rest[i] - '0');
  }
  if (pid <= 0) return false;
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

// Sum of regular-file sizes under `path`, not following symlinks; hard links once.
uint64_t tree_bytes(const std::string& path) {
  uint64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::error_code ec;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (S_ISREG(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  if (!S_ISDIR(st.st_mode)) return 0;
  for (fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (st.st_nlink > 1 && !seen.insert({st.st_dev, st.st_ino}).second) continue;
    total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

// remove_all without exceptions; does not follow symlinks.
Result<> remove_tree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return fail("remove " + path + ": " + ec.message(), ec.value());
  return {};
}

Result<UniqueFd> lock_file(const std::string& path, int op) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return fail_errno("open " + path);
  while (::flock(fd.get(), op) != 0) {
    if (errno == EINTR) continue;
    return fail_errno("lock " + path);
  }
  return fd;
}

// refs.json: {"version": 1, "refs": {"docker.io/library/alpine:latest": "sha256:..."},
//             "tagged": {"docker.io/library/alpine:latest": <ms since the epoch>}}
// "tagged" (when each name was last pulled, loaded or tagged) came later: a
// name without it has no known time.
namespace {
Result<nlohmann::json> load_refs_json(const std::string& root) {
  const std::string path = root + "/refs.json";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return nlohmann::json::object();
    return fail_errno("read " + path);
  }
  auto content = read_fd(fd.get(), path);
  if (!content) return tl::unexpected(content.error());
  auto j = nlohmann::json::parse(*content, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(path + ": invalid JSON", EINVAL);
  return j;
}
}  // namespace

Result<std::map<std::string, int64_t>> load_tag_times(const std::string& root) {
  auto j = load_refs_json(root);
  if (!j) return tl::unexpected(j.error());
  std::map<std::string, int64_t> out;
  auto tagged = j->find("tagged");
  if (tagged == j->end() || !tagged->is_object()) return out;
  for (auto it = tagged->begin(); it != tagged->end(); ++it)
    if (it.value().is_number_integer()) out[it.key()] = it.value().get<int64_t>();
  return out;
}

Result<std::map<std::string, Digest>> load_refs(const std::string& root) {
  std::map<std::string, Digest> out;
  const std::string path = root + "/refs.json";
  auto loaded = load_refs_json(root);
  if (!loaded) return tl::unexpected(loaded.error());
  const nlohmann::json& j = *loaded;
  auto refs = j.find("refs");
  if (refs == j.end()) return out;
  if (!refs->is_object()) return fail(path + ": refs: not an object", EINVAL);
  for (auto it = refs->begin(); it != refs->end(); ++it) {
    if (!it.value().is_string()) return fail(path + ": refs." + it.key() + ": not a string", EINVAL);
    auto d = parse_digest(it.value().get<std::string>());
    if (!d) return fail(path + ": refs." + it.key() + ": " + d.error().context, EINVAL);
    out[it.key()] = *d;
  }
  return out;
}

}  // namespace store_internal

// ---- BlobWriter ------------------------------------------------------------

struct BlobWriter::State {
  std::string path;        // ingest file
  std::string final_path;  // blobs/sha256/<hex>
  std::string blobs_dir;
  Digest expected;
  int64_t expected_size = -1;
  bool resumable = false;
  bool done = false;  // committed or failed: the file is no longer ours
  uint64_t offset = 0;
  UniqueFd fd;  // holds an exclusive flock while the writer lives
  Sha256 hash;

  void discard() {
    if (!done) ::unlink(path.c_str());
    done = true;
    fd.reset();
  }
  // An abandoned resumable ingest keeps its bytes for the next attempt; any
  // other uncommitted ingest vanishes (also when a writer is assigned over).
  ~State() {
    if (!done && !resumable) ::unlink(path.c_str());
  }
};

BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;
BlobWriter& BlobWriter::operator=(BlobWriter&&) noexcept = default;

BlobWriter::~BlobWriter() = default;

uint64_t BlobWriter::offset() const { return s_ ? s_->offset : 0; }

Result<> BlobWriter::write(const void* data, size_t n) {
  if (!s_ || s_->done) return fail("write blob: writer already committed or failed", EINVAL);
  const std::string what = "blob " + s_->expected.string();
  if (s_->expected_size >= 0 && s_->offset + n > static_cast<uint64_t>(s_->expected_size)) {
    s_->discard();
    return fail(what + ": more data than the expected " + std::to_string(s_->expected_size) + " bytes", EINVAL);
  }
  STACK_TRY_CTX(io::write_all(s_->fd.get(), std::string_view(static_cast<const char*>(data), n), s_->path), what);
  s_->hash.update(data, n);
  s_->offset += n;
  return {};
}

Result<> BlobWriter::commit() {
  if (!s_ || s_->done) return fail("commit blob: writer already committed or failed", EINVAL);
  const std::string what = "blob " + s_->expected.string();
  if (s_->expected_size >= 0 && s_->offset != static_cast<uint64_t>(s_->expected_size)) {
    auto got = s_->offset;
    s_->discard();
    return fail(what + ": size mismatch: expected " + std::to_string(s_->expected_size) + " bytes, got " +
                    std::to_string(got),
                EINVAL);
  }
  Digest actual = s_->hash.finish();
  if (!(actual == s_->expected)) {
    s_->discard();
    return fail("blob digest mismatch: expected " + s_->expected.string() + ", got " + actual.string(), EINVAL);
  }
  if (::fsync(s_->fd.get()) != 0) {
    auto e = fail_errno("fsync " + s_->path);
    s_->discard();
    return e;
  }
  if (::rename(s_->path.c_str(), s_->final_path.c_str()) != 0) {
    auto e = fail_errno("rename " + s_->path + " to " + s_->final_path);
    s_->discard();
    return e;
  }
  s_->done = true;
  s_->fd.reset();
  return fsync_dir(s_->blobs_dir);
}

// ---- ContentStore: blobs -----------------------------------------------------

Result<ContentStore> ContentStore::open(const std::string& root) {
  if (root.empty()) return fail("open image store: empty root path", EINVAL);
  ContentStore st(root);
  // 0700 on the root: layers may hold setuid binaries, device nodes and
  // secrets baked into images; nothing below needs to be reachable by other
  // users (CVE-2021-41091). A root made looser earlier (mkdir -p, an older
  // version) is tightened, not trusted.
  STACK_TRY_CTX(mkdir_parents(root, 0700), "open image store");
  STACK_TRY_CTX(restrict_mode(root, 0700), "open image store");
  for (const char* sub : {"/blobs", "/blobs/sha256", "/ingest", "/snapshots"})
    STACK_TRY_CTX(mkdir_p(root + sub, 0700), "open image store");

  // Crash debris: unlocked non-resumable ingest files, prepared snapshots of
  // dead processes, refs.json temporaries of dead processes.
  std::error_code ec;
  for (fs::directory_iterator it(root + "/ingest", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename();
    if (ends_with(name, kPartialSuffix) || locked_by_someone(it->path())) continue;
    STACK_TRY_CTX(remove_tree(it->path()), "open image store: clear debris");
  }
  for (fs::directory_iterator it(root + "/snapshots", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename();
    if (name.rfind(kTmpPrefix, 0) != 0 || tmp_owner_alive(name)) continue;
    STACK_TRY_CTX(remove_tree(it->path()), "open image store: clear debris");
  }
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename();
    if (name.rfind(std::string("refs.json") + kTmpPrefix, 0) == 0 &&
        !tmp_owner_alive(name.substr(std::string("refs.json").size())))
      ::unlink(it->path().c_str());
  }
  return st;
}

std::string ContentStore::blob_path(const Digest& d) const { return root_ + "/blobs/" + d.algorithm + "/" + d.hex; }

bool ContentStore::has_blob(const Digest& d) const {
  struct stat st {};
  return ::stat(blob_path(d).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<BlobWriter> ContentStore::ingest(const Digest& expected, int64_t expected_size, bool resumable) {
  const std::string what = "ingest blob " + expected.string();
  if (expected.algorithm != "sha256" || expected.hex.size() != 64 || !parse_digest(expected.string()))
    return fail(what + ": invalid digest", EINVAL);
  BlobWriter w;
  w.s_ = std::make_unique<BlobWriter::State>();
  auto& s = *w.s_;
  s.expected = expected;
  s.expected_size = expected_size;
  s.blobs_dir = root_ + "/blobs/sha256";
  s.final_path = blob_path(expected);

  if (resumable) {
    s.path = root_ + "/ingest/" + expected.hex + kPartialSuffix;
    UniqueFd fd(::open(s.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) return fail_errno(what + ": open " + s.path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
      s.resumable = true;
      // Re-hash what an earlier attempt left so commit() covers every byte.
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0) return fail_errno(what + ": stat " + s.path);
      if (expected_size >= 0 && st.st_size > expected_size) {
        if (::ftruncate(fd.get(), 0) != 0) return fail_errno(what + ": truncate " + s.path);
      } else {
        char buf[1 << 16];
        for (;;) {
          ssize_t r = ::read(fd.get(), buf, sizeof buf);
          if (r < 0) {
            if (errno == EINTR) continue;
            return fail_errno(what + ": read " + s.path);
          }
          if (r == 0) break;
          s.hash.update(buf, static_cast<size_t>(r));
          s.offset += static_cast<uint64_t>(r);
        }
      }
      if (::lseek(fd.get(), static_cast<off_t>(s.offset), SEEK_SET) < 0) return fail_errno(what + ": seek " + s.path);
      s.fd = std::move(fd);
      return w;
    }
    if (errno != EWOULDBLOCK) return fail_errno(what + ": lock " + s.path);
    // Another writer owns the partial file: download privately instead.
  }
  s.path = root_ + "/ingest/" + expected.hex + "-" + random_hex() + ".tmp";
  UniqueFd fd(::open(s.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return fail_errno(what + ": create " + s.path);
  ::flock(fd.get(), LOCK_EX | LOCK_NB);  // fresh file: cannot be contended
  s.fd = std::move(fd);
  return w;
}

Result<> ContentStore::put_blob(const Digest& expected, const std::string& bytes) {
  if (has_blob(expected)) return {};
  auto w = ingest(expected, static_cast<int64_t>(bytes.size()));
  if (!w) return tl::unexpected(w.error());
  STACK_TRY(w->write(bytes.data(), bytes.size()));
  return w->commit();
}

Result<std::string> ContentStore::read_blob(const Digest& d) const {
  const std::string path = blob_path(d);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return fail_errno("read blob " + d.string());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat " + path);
  if (static_cast<uint64_t>(st.st_size) > kMaxSmallBlob)
    return fail("read blob " + d.string() + ": " + std::to_string(st.st_size) + " bytes is too large", EFBIG);
  auto content = read_fd(fd.get(), path);
  if (!content) return tl::unexpected(content.error());
  std::string out = std::move(*content);
  // Cheap for small blobs, and it turns silent disk corruption into an error.
  if (!(sha256_of(out) == d)) return fail("blob " + d.string() + ": content does not match its digest", EIO);
  return out;
}

Result<> ContentStore::remove_blob(const Digest& d) {
  if (::unlink(blob_path(d).c_str()) != 0 && errno != ENOENT) return fail_errno("remove blob " + d.string());
  return {};
}

// ---- Names -------------------------------------------------------------------

namespace {

// Not io::write_file_atomic: the temp name carries the writer's pid
// (refs.json.tmp-<pid>-<random>) so that open() sweeps what a killed writer
// left, which a mkstemp name cannot say.
Result<> save_refs(const std::string& root, const std::map<std::string, Digest>& refs,
                   const std::map<std::string, int64_t>& tagged) {
  nlohmann::json j;
  j["version"] = 1;
  j["refs"] = nlohmann::json::object();
  for (const auto& [k, v] : refs) j["refs"][k] = v.string();
  j["tagged"] = nlohmann::json::object();
  for (const auto& [k, v] : tagged)
    if (refs.count(k)) j["tagged"][k] = v;
  const std::string path = root + "/refs.json";
  const std::string tmp = path + kTmpPrefix + std::to_string(::getpid()) + "-" + random_hex();
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return fail_errno("create " + tmp);
  std::string text = j.dump(2) + "\n";
  auto w = io::write_all(fd.get(), text, tmp);
  if (w && ::fsync(fd.get()) != 0) w = fail_errno("fsync " + tmp);
  if (w && ::rename(tmp.c_str(), path.c_str()) != 0) w = fail_errno("rename " + tmp + " to " + path);
  if (!w) {
    ::unlink(tmp.c_str());
    return w;
  }
  return fsync_dir(root);
}

}  // namespace

Result<> ContentStore::set_ref(const Reference& ref, const Digest& manifest) {
  auto lock = lock_file(root_ + "/lock", LOCK_EX);
  if (!lock) return tl::unexpected(lock.error().wrap("tag " + ref.string()));
  auto refs = load_refs(root_);
  if (!refs) return tl::unexpected(refs.error().wrap("tag " + ref.string()));
  auto times = load_tag_times(root_);
  if (!times) return tl::unexpected(times.error().wrap("tag " + ref.string()));
  (*refs)[ref.string()] = manifest;
  (*times)[ref.string()] = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  STACK_TRY_CTX(save_refs(root_, *refs, *times), "tag " + ref.string());
  return {};
}

Result<Digest> ContentStore::get_ref(const Reference& ref) const {
  auto refs = load_refs(root_);
  if (!refs) return tl::unexpected(refs.error());
  auto it = refs->find(ref.string());
  if (it == refs->end()) return fail("image " + ref.familiar() + " not found", ENOENT);
  return it->second;
}

Result<> ContentStore::remove_ref(const Reference& ref) {
  auto lock = lock_file(root_ + "/lock", LOCK_EX);
  if (!lock) return tl::unexpected(lock.error().wrap("untag " + ref.string()));
  auto refs = load_refs(root_);
  if (!refs) return tl::unexpected(refs.error().wrap("untag " + ref.string()));
  if (refs->erase(ref.string()) == 0) return fail("image " + ref.familiar() + " not found", ENOENT);
  auto times = load_tag_times(root_);
  if (!times) return tl::unexpected(times.error().wrap("untag " + ref.string()));
  STACK_TRY_CTX(save_refs(root_, *refs, *times), "untag " + ref.string());
  return {};
}

Result<std::map<std::string, Digest>> ContentStore::refs() const { return load_refs(root_); }

Result<std::optional<int64_t>> ContentStore::tagged_at(const Reference& ref) const {
  auto times = load_tag_times(root_);
  if (!times) return tl::unexpected(times.error());
  auto it = times->find(ref.string());
  if (it == times->end()) return std::optional<int64_t>();
  return std::optional<int64_t>(it->second);
}

// ---- Snapshots -----------------------------------------------------------------

std::string ContentStore::snapshot_path(const Digest& chain_id) const {
  return root_ + "/snapshots/" + chain_id.hex + "/fs";
}

bool ContentStore::has_snapshot(const Digest& chain_id) const {
  struct stat st {};
  return ::stat(snapshot_path(chain_id).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> ContentStore::prepare_snapshot() {
  const std::string dir =
      root_ + "/snapshots/" + kTmpPrefix + std::to_string(::getpid()) + "-" + random_hex();
  if (::mkdir(dir.c_str(), 0700) != 0) return fail_errno("prepare snapshot: create " + dir);
  // fs/ becomes the overlay lower dir; the unpacker sets its mode from the
  // layer's root entry.
  if (::mkdir((dir + "/fs").c_str(), 0755) != 0) {
    auto e = fail_errno("prepare snapshot: create " + dir + "/fs");
    ::rmdir(dir.c_str());
    return e;
  }
  return dir + "/fs";
}

namespace {
// The .tmp-* directory for what prepare_snapshot() returned (".tmp-x/fs") or
// the directory itself; "" when `prepared` is not one of ours.
std::string prepared_dir(const std::string& root, const std::string& prepared) {
  std::string tmp = prepared;
  while (!tmp.empty() && tmp.back() == '/') tmp.pop_back();
  if (ends_with(tmp, "/fs")) tmp.resize(tmp.size() - 3);
  const std::string snaps = root + "/snapshots/";
  if (tmp.rfind(snaps + kTmpPrefix, 0) != 0 || tmp.find('/', snaps.size()) != std::string::npos) return "";
  return tmp;
}
}  // namespace

Result<> ContentStore::discard_snapshot(const std::string& prepared) {
  std::string tmp = prepared_dir(root_, prepared);
  if (tmp.empty()) return fail("discard snapshot: " + prepared + " was not prepared by this store", EINVAL);
  return remove_tree(tmp);
}

Result<> ContentStore::publish_snapshot(const std::string& prepared, const Digest& chain_id) {
  std::string tmp = prepared_dir(root_, prepared);
  if (tmp.empty())
    return fail("publish snapshot " + chain_id.string() + ": " + prepared + " was not prepared by this store", EINVAL);
  const std::string snaps = root_ + "/snapshots/";
  const std::string target = snaps + chain_id.hex;
  const std::string what = "publish snapshot " + chain_id.string();
  struct stat st {};
  if (::lstat(target.c_str(), &st) == 0) return remove_tree(tmp);  // another pull won
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) return remove_tree(tmp);
    return fail_errno(what + ": rename " + tmp + " to " + target);
  }
  return fsync_dir(snaps);
}

Result<> ContentStore::remove_snapshot(const Digest& chain_id) {
  const std::string dir = root_ + "/snapshots/" + chain_id.hex;
  // Rename first so a half-removed tree is never visible as a snapshot.
  const std::string doomed = root_ + "/snapshots/" + kTmpPrefix + std::to_string(::getpid()) + "-rm" + random_hex();
  if (::rename(dir.c_str(), doomed.c_str()) != 0) {
    if (errno == ENOENT) return {};
    return fail_errno("remove snapshot " + chain_id.string());
  }
  STACK_TRY_CTX(remove_tree(doomed), "remove snapshot " + chain_id.string());
  return {};
}

}  // namespace stack::img
