// Per-container state on disk, under the runtime root (runc's layout):
//   <root>/<id>/state.json   what `create` decided (pid, its start time, bundle, cgroup)
//   <root>/<id>/config.json  the spec as created, for exec and delete
//   <root>/<id>/exec.fifo    exists from create until start
// The status is never stored: it is derived from the live process (pid plus
// start time, so a recycled pid is not mistaken for the container) and the
// fifo.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/error.h"

namespace stack::rt {

inline constexpr const char* kDefaultRuntimeRoot = "/run/stack-runtime";

enum class Status { Creating, Created, Running, Paused, Stopped };
const char* to_string(Status s);

struct ContainerRecord {
  std::string id;
  std::string bundle;
  std::string rootfs;
  pid_t pid = 0;
  uint64_t pid_start = 0;  // /proc/<pid>/stat field 22, guards against pid reuse
  std::string created;     // RFC 3339
  std::string cgroups_path;
  std::map<std::string, std::string> annotations;
  // No mount namespace of its own: its mounts under `rootfs` are in the
  // runtime's namespace, and `delete` unmounts them.
  bool mounts_in_runtime_ns = false;
};

class StateDir {
 public:
  explicit StateDir(std::string root = kDefaultRuntimeRoot) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }
  std::string fifo(const std::string& id) const { return dir(id) + "/exec.fifo"; }
  std::string config(const std::string& id) const { return dir(id) + "/config.json"; }
  std::string seccomp_cache() const { return root_ + "/.seccomp-cache"; }

  // mkdir <root>/<id>; fails with EEXIST naming the id when it exists.
  Result<> reserve(const std::string& id) const;
  Result<> save(const ContainerRecord& rec) const;  // atomic: tmp + rename
  Result<ContainerRecord> load(const std::string& id) const;
  Result<std::vector<std::string>> list() const;
  Result<> remove(const std::string& id) const;

 private:
  std::string root_;
};

// Container ids: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 1024 bytes (runc's rule).
Result<> validate_id(const std::string& id);

uint64_t process_start_time(pid_t pid);  // 0 when gone
Status status_of(const StateDir& dir, const ContainerRecord& rec);
// The OCI state document: ociVersion, id, status, pid, bundle, rootfs, created, annotations.
nlohmann::json oci_state(const ContainerRecord& rec, Status status);
std::string now_rfc3339();

}  // namespace stack::rt
