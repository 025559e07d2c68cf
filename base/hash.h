// FNV-1a (64 bit): a fast, stable, non-cryptographic hash for names and
// change detection (config hashes, cache checksums, directory names). Not
// for anything an attacker may choose to collide.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace stack {

uint64_t fnv1a(const void* data, size_t n);
// 16 lower-case hex digits.
std::string fnv1a_hex(const std::string& data);

}  // namespace stack
