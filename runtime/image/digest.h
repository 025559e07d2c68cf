// Content digests ("sha256:<64 lowercase hex>") and streaming SHA-256.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "runtime/image/reference.h"

namespace stack::img {

struct Digest {
  std::string algorithm = "sha256";
  std::string hex;
  std::string string() const { return algorithm + ":" + hex; }
  bool operator==(const Digest&) const = default;
};

// Only sha256 is accepted (as Docker does for content it stores).
Result<Digest> parse_digest(const std::string& text);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  Digest finish();  // once
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Digest sha256_of(const std::string& bytes);

}  // namespace stack::img
