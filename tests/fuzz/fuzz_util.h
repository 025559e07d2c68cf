// Helpers shared by the fuzz targets: a scratch directory that removes
// itself, and the input as a string.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace stack::fuzz {

// TMPDIR, else /dev/shm (tmpfs: file-writing targets stay fast), else /tmp.
inline std::string scratch_base() {
  if (const char* t = std::getenv("TMPDIR"); t && *t) return t;
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";
  return "/tmp";
}

// A fresh directory under scratch_base(), removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "stack-fuzz") {
    std::string tmpl = scratch_base() + "/" + prefix + ".XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();  // no scratch space: nothing can be fuzzed
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace stack::fuzz
