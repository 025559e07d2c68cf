// Layer extraction from a hostile registry: the input is the blob (a tar,
// maybe compressed). Each input is unpacked into a fresh `root` inside its
// own empty parent directory; afterwards the parent must hold `root` and
// nothing else, `root` must still be a real directory, and no file inside it
// may be a hard link to an inode outside it. Any of those would be a write
// (or a handle) outside the destination, which unpack.h promises never
// happens. Limits are small so that bombs fail fast instead of timing out.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "runtime/image/unpack.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace stack;

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) return out;
  while (dirent* e = ::readdir(d.get()))
    if (std::string n = e->d_name; n != "." && n != "..") out.push_back(n);
  return out;
}

void defect(const std::string& what) {
  std::fprintf(stderr, "layer unpack escaped its root: %s\n", what.c_str());
  std::abort();
}

// Counts, per multiply-linked inode, the links found under `dir`.
void count_links(const std::string& dir, std::map<ino_t, std::pair<nlink_t, nlink_t>>& seen) {
  for (auto& name : list_dir(dir)) {
    std::string p = dir + "/" + name;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      count_links(p, seen);
    } else if (st.st_nlink > 1) {
      auto& [want, found] = seen[st.st_ino];
      want = st.st_nlink;
      ++found;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::TempDir work("stack-fuzz-blob");
  const std::string blob = work.path() + "/blob";
  {
    std::ofstream out(blob, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) std::abort();
  }
  fuzz::TempDir parent("stack-fuzz-unpack");
  const std::string root = parent.path() + "/root";
  if (::mkdir(root.c_str(), 0755) != 0) std::abort();

  img::UnpackOptions opt;
  opt.max_bytes = 1 << 20;
  opt.max_entries = 2000;
  auto r = img::unpack_layer(blob, root, opt);
  if (r && r->bytes_written > opt.max_bytes) defect("wrote more than max_bytes");

  auto names = list_dir(parent.path());
  if (names.size() != 1 || names[0] != "root") {
    std::string all;
    for (auto& n : names) all += " " + n;
    defect("parent directory holds:" + all);
  }
  struct stat st;
  if (::lstat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) defect("root is no longer a directory");
  auto in_work = list_dir(work.path());
  if (in_work.size() != 1 || in_work[0] != "blob") defect("blob directory changed");
  std::map<ino_t, std::pair<nlink_t, nlink_t>> links;
  count_links(root, links);
  for (auto& [ino, n] : links)
    if (n.second < n.first) defect("inode " + std::to_string(ino) + " has links outside the root");
  return 0;
}
