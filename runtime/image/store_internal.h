// Private to the image store's two source files (store.cc: blobs, refs,
// snapshots; store_gc.cc: garbage collection and disk usage): the file and
// lock helpers both use.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "runtime/image/digest.h"
#include "base/error.h"
#include "base/fd.h"

namespace stack::img::store_internal {

inline constexpr const char* kTmpPrefix = ".tmp-";  // prepared snapshots: .tmp-<pid>-<random>

// True when some live process holds a lock on `path` (an active ingest).
bool locked_by_someone(const std::string& path);
// ".tmp-<pid>-<rand>" whose pid still runs: a prepare in progress, keep it.
bool tmp_owner_alive(const std::string& name);
// Sum of regular-file sizes under `path`, not following symlinks; hard links once.
uint64_t tree_bytes(const std::string& path);
// remove_all without exceptions; does not follow symlinks.
stack::Result<void> remove_tree(const std::string& path);
// Opens (creating) `path` and flock()s it with `op`, retrying on EINTR.
stack::Result<stack::UniqueFd> lock_file(const std::string& path, int op);
// <root>/refs.json as name -> manifest digest (empty when absent).
stack::Result<std::map<std::string, Digest>> load_refs(const std::string& root);
stack::Result<std::map<std::string, int64_t>> load_tag_times(const std::string& root);

}  // namespace stack::img::store_internal
