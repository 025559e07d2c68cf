// Namespace kinds: OCI names <-> clone flags <-> /proc/<pid>/ns entries, and
// joining existing ones by path.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "base/fd.h"

namespace stack::rt {

struct NamespaceKind {
  const char* oci;    // "network"
  const char* proc;   // "net" (/proc/<pid>/ns/net)
  int clone_flag;     // CLONE_NEWNET
};

// In the order they must be joined: user first (it grants the rights to join
// the others), mount last (joining it changes how later paths resolve).
const std::vector<NamespaceKind>& namespace_kinds();
const NamespaceKind* namespace_kind(const std::string& oci_name);

// Opens a namespace file and checks that it is one of the expected type.
Result<UniqueFd> open_namespace(const std::string& path, const NamespaceKind& kind);

// Whether the running kernel supports a namespace type (/proc/self/ns/<x>).
bool kernel_has_namespace(const NamespaceKind& kind);

}  // namespace stack::rt
