// The process identity: supplementary groups, gid, uid, umask. Applied in the
// child after the bounding set is dropped and before capset, with
// PR_SET_KEEPCAPS so switching away from uid 0 keeps the permitted set.
#pragma once

#include <sys/types.h>

#include <vector>

#include "runtime/oci/spec.h"
#include "runtime/kernel/child_error.h"

namespace stack::rt {

struct IdentityPlan {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // additionalGids
  bool set_groups = true;     // false in a user namespace with setgroups denied
  int umask = -1;             // -1: keep 0022
};

IdentityPlan plan_identity(const User& user, bool setgroups_allowed);
int apply_identity(const IdentityPlan& plan, ChildError* err) noexcept;

}  // namespace stack::rt
