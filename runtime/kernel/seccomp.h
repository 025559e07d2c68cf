// Seccomp: OCI linux.seccomp compiled with libseccomp into a classic BPF
// program *before* clone, so the child only calls seccomp(2) with a ready
// sock_fprog (async-signal-safe). Compiled programs are cached on disk by a
// hash of the profile, so a container start with the default profile costs a
// file read, not a libseccomp compile (crun's trick).
//
// Files: seccomp.cc (validate, compile, ENOSYS stub, cache, load),
// seccomp_docker.{h,cc} (Docker's JSON profile format and its
// includes/excludes resolver), seccomp_default.cc (our copy of Docker's
// default profile, as data in Docker's structure).
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/oci/spec.h"
#include "base/error.h"

namespace stack::rt {

struct SeccompProgram {
  std::vector<sock_filter> insns;  // ready for SECCOMP_SET_MODE_FILTER
  unsigned flags = 0;              // SECCOMP_FILTER_FLAG_* from the spec
  bool empty() const { return insns.empty(); }
};

// Checks every name (actions, operators, architectures, flags) and argument
// index without compiling, so a bad config.json fails at parse time with the
// field named: "linux.seccomp: syscalls[3].action: unknown action SCMP_ACT_FOO".
// SCMP_ACT_NOTIFY is refused: we run no seccomp agent.
// An empty origin leaves the prefix off ("defaultAction: unknown action ...").
Result<void> validate_seccomp(const Seccomp& profile, const std::string& origin = "linux.seccomp");
// One rule; `field` prefixes the error ("seccomp profile: syscalls[3]").
Result<void> validate_seccomp_syscall(const SeccompSyscall& rule, const std::string& field);

// Compile a profile. The result refuses syscalls newer than any the profile
// names with ENOSYS (as runc does), so a libc probing a new syscall falls back
// instead of seeing EPERM; this applies on the native architecture (x86_64)
// when the default action refuses (ERRNO, KILL*, TRAP), not when it allows
// (ALLOW, LOG, TRACE). Syscall names libseccomp does not know are skipped, as
// runc skips them. `cache_dir` empty disables the on-disk cache; otherwise the
// program is read from / written to <cache_dir>/<sha256>.bpf (created 0700 if
// missing). A cache that cannot be written is not an error: the compiled
// program is still returned.
Result<SeccompProgram> compile_seccomp(const Seccomp& profile, const std::string& cache_dir = "");

// The file compile_seccomp uses for `profile` under `cache_dir` (for tests and
// for `stack-runtime` diagnostics). Pure: hashes, touches no file.
std::string seccomp_cache_path(const Seccomp& profile, const std::string& cache_dir);

// In the child, after capabilities are set and just before execve.
// Async-signal-safe. Returns 0 or an errno value. An empty program loads
// nothing and returns 0. The caller sets no_new_privs first, or keeps
// CAP_SYS_ADMIN until this call.
int load_seccomp(const SeccompProgram& program) noexcept;

// Docker's JSON profile format (security_opt seccomp=FILE, and the default):
// resolves includes/excludes by the container's capabilities and the host's
// architecture and kernel, giving a plain OCI profile, with moby's semantics
// (profiles/seccomp setupSeccomp): a rule is kept when every included cap is
// in `capabilities` (the bounding set), the native arch ("amd64") is among
// the included arches, the kernel is >= includes.minKernel, and no excluded
// cap / arch / minKernel matches. Errors name the field under `origin`:
// "seccomp profile: syscalls[3].action: unknown action SCMP_ACT_FOO".
Result<Seccomp> seccomp_from_docker_profile(const nlohmann::json& profile,
                                            const std::vector<std::string>& capabilities,
                                            const std::string& origin = "seccomp profile");

// The built-in default profile, equivalent to Docker's (moby/profiles), for
// the given capability set (Docker's 14 defaults unless more are added).
Seccomp default_seccomp_profile(const std::vector<std::string>& capabilities);

}  // namespace stack::rt
