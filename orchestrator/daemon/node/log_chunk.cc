#include "orchestrator/daemon/node/log_chunk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd.h"
#include "base/gz_file.h"

namespace stack::orch {

namespace {

// A rotated file that the json-file log's compress option gzipped
// (runtime/shim/log_writer.h): complete and never written again, so it is
// read through zlib, `offset` counting uncompressed bytes.
std::vector<std::string> read_gzip_lines(const std::string& path, uint64_t& offset, size_t max_bytes) {
  std::vector<std::string> out;
  stack::GzFile in(gzopen(path.c_str(), "rb"));
  if (!in) return out;
  if (offset > 0 && gzseek(in.get(), static_cast<z_off_t>(offset), SEEK_SET) < 0) return out;
  std::string data;
  char buf[64 * 1024];
  for (int n; (n = gzread(in.get(), buf, sizeof buf)) > 0;) {
    data.append(buf, static_cast<size_t>(n));
    if (max_bytes > 0 && data.size() >= max_bytes) break;
  }
  size_t start = 0;
  for (size_t nl; (nl = data.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(data.substr(start, nl - start));
  offset += start;
  return out;
}

}  // namespace

std::vector<std::string> read_complete_lines(const std::string& path, uint64_t& offset, size_t max_bytes) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) return read_gzip_lines(path, offset, max_bytes);
  std::vector<std::string> out;
  stack::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return out;
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return out;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < offset) offset = 0;  // rotated or truncated under us
  if (size == offset) return out;
  uint64_t want = size - offset;
  if (max_bytes > 0 && want > max_bytes) want = max_bytes;
  std::string data(static_cast<size_t>(want), '\0');
  ssize_t n = pread(fd.get(), data.data(), data.size(), static_cast<off_t>(offset));
  if (n <= 0) return out;
  data.resize(static_cast<size_t>(n));
  size_t start = 0;
  for (size_t nl; (nl = data.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(data.substr(start, nl - start));
  offset += start;
  return out;
}

}  // namespace stack::orch
