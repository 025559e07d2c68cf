// Docker's seccomp profile format as plain structs, and the resolver that
// turns it into an OCI profile for one container (capabilities) on one host
// (architecture, kernel). Shared by the JSON parser (seccomp_docker.cc) and
// the built-in default profile (seccomp_default.cc), so both go through the
// same include/exclude logic. Internal to the seccomp module; other modules
// use the functions in seccomp.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/oci/spec.h"
#include "base/error.h"

namespace stack::rt::docker_seccomp {

// "<kernel>.<major>" as in moby's KernelVersion ("4.8"); minor revisions and
// distro suffixes of the running kernel are ignored when comparing.
struct KernelVersion {
  unsigned kernel = 0;
  unsigned major = 0;
  friend auto operator<=>(const KernelVersion&, const KernelVersion&) = default;
};

// includes / excludes of one rule. Empty lists and no min_kernel mean "no
// condition".
struct Filter {
  std::vector<std::string> caps;    // "CAP_SYS_ADMIN"
  std::vector<std::string> arches;  // Docker's names: "amd64", "x32", "arm64"
  std::optional<KernelVersion> min_kernel;
};

struct Rule {
  SeccompSyscall call;  // names, action, errnoRet, args: copied as is when kept
  Filter includes;
  Filter excludes;
};

struct ArchMapEntry {
  std::string arch;                     // "SCMP_ARCH_X86_64"
  std::vector<std::string> sub_arches;  // "SCMP_ARCH_X86", "SCMP_ARCH_X32"
};

struct Profile {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // either this ...
  std::vector<ArchMapEntry> arch_map;      // ... or this, never both
  std::vector<std::string> flags;
  std::vector<Rule> syscalls;
};

// The host as moby sees it: Go's architecture name mapped to libseccomp's
// ("amd64" on x86_64) and the running kernel's version.
struct Host {
  std::string arch;          // Docker's name, "amd64"
  std::string seccomp_arch;  // "SCMP_ARCH_X86_64"; "" when unknown (archMap then ignored)
  KernelVersion kernel;
};
Host current_host();

// Parses and validates (action, operator, flag names, arg indexes, minKernel
// syntax) every rule, whether or not it will apply here, so a bad profile
// fails on every host alike. Errors: "<origin>: syscalls[3].action: ...".
Result<Profile> parse(const nlohmann::json& j, const std::string& origin);

// moby's setupSeccomp. Cannot fail: parse() has checked everything.
Seccomp resolve(const Profile& profile, const std::vector<std::string>& capabilities, const Host& host);

// Our built-in copy of Docker's default profile (seccomp_default.cc).
const Profile& builtin_default_profile();

}  // namespace stack::rt::docker_seccomp
