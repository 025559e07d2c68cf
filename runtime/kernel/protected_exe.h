// Our executables, protected before they enter a container (the
// CVE-2019-5736 defence).
//
// A process that enters a container and then execs the user's program runs,
// until that execve, as our binary: /proc/<pid>/exe is the host file. An
// image whose program is "#!/proc/self/exe" makes the kernel resolve that
// interpreter to the runtime binary itself, so the host runtime ends up
// running inside the container, where a container process can open
// /proc/<pid>/exe and, once the binary is no longer busy, overwrite the host
// file. The next run then executes the container's payload on the host as
// root. Dumpable=0 does not help: execve resets it.
//
// The defence: whatever enters a container runs from a path that cannot be
// written, never from the host file as mounted. Two ways, the cheap first:
//   1. a read-only clone of the binary's mount (open_tree(OPEN_TREE_CLONE),
//      mount_setattr(MOUNT_ATTR_RDONLY)): no copy, no memory, and never
//      attached to any mount table, so no mount events reach the host (why
//      runc dropped its bind-mount variant); a write through
//      /proc/<pid>/exe fails with EROFS and only root in the host's mount
//      namespace could make it writable again. Needs CAP_SYS_ADMIN;
//   2. otherwise a copy in a memfd with every write seal (runc's classic):
//      a write fails with EPERM; costs one copy of the binary per start.
//
// Who calls what:
// - stack-runtime (create/run/exec) and stack-shim call reexec_protected()
//   first thing in main(): it returns at once when the process already runs
//   protected, else it execs itself through a protected path (and does not
//   return).
// - stackd makes one ProtectedBinary per helper binary at start and spawns
//   every shim and `stack-runtime exec` (health checks included) through
//   its path, so those skip even the re-exec.
#pragma once

#include <string>

#include "base/error.h"
#include "base/fd.h"

namespace stack::rt {

// True when writes through `fd` (an open executable) cannot reach a file:
// a memfd carrying our write seals, or a file on a read-only mount.
bool is_write_protected(int fd);

// A close-on-exec fd through which `path` can be executed but not written:
// a read-only mount clone, else a sealed memfd copy named `name` (it shows
// in /proc/<pid>/exe as "/memfd:<name> (deleted)").
Result<UniqueFd> protected_executable(const std::string& path, const std::string& name);

// Either form on its own (tests and benchmarks compare them).
Result<UniqueFd> readonly_clone(const std::string& path);
Result<UniqueFd> sealed_copy(const std::string& path, const std::string& name);

// Re-executes the current program through protected_executable() of
// /proc/self/exe with the same argv and environment, unless it already runs
// protected. Returns only when nothing needed doing, or with the reason it
// could not (then the caller must refuse to enter any container). Sets the
// process name (comm) to basename(argv[0]): the kernel names a process
// executed through an fd after the fd's number.
Result<> reexec_protected(char** argv);

// One protected executable kept open by a long-lived spawner (stackd).
// path() is "/proc/self/fd/N": valid in this process and in the children it
// spawns with execve/posix_spawn on that path (the kernel opens the file
// before it closes close-on-exec fds), so it can stand wherever a binary
// path is used.
class ProtectedBinary {
 public:
  static Result<ProtectedBinary> open(const std::string& path);
  const std::string& path() const { return path_; }

 private:
  UniqueFd fd_;
  std::string path_;
};

}  // namespace stack::rt
