// cgroup v2 device access control: a BPF_PROG_TYPE_CGROUP_DEVICE program
// attached to the container's cgroup. v2 has no devices.allow/deny files; the
// kernel asks the attached programs on every open(2) and mknod(2) of a device
// node, and a program returning 0 denies with EPERM.
//
// The rules are the OCI list (linux.resources.devices), evaluated as the last
// matching rule wins, which is what the v1 files give for the lists runtimes
// write (a deny-all, then allows):
//   allow rule matches when type, major and minor match and the rule grants
//     every access bit asked for (read, write, mknod);
//   deny rule matches when type, major and minor match and it names any of
//     the access bits asked for;
//   nothing matches: denied.
// On a hybrid host the same program also guards the container's unified
// cgroup: both v1 and the program are consulted on every access.
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "runtime/oci/spec.h"
#include "base/error.h"

namespace stack::rt {

// The program for `rules` (pure; unit-tested instruction by instruction).
// Errors name the bad rule: "linux.resources.devices[3]: type "x" ...".
Result<std::vector<bpf_insn>> compile_device_filter(const std::vector<DeviceCgroupRule>& rules);

// Loads the program for `rules` and attaches it to the cgroup directory
// `cgroup_dir` (BPF_F_ALLOW_MULTI), then detaches whatever programs were
// attached there before, so a second call replaces the rules rather than
// intersecting with them. The attachment lives as long as the cgroup.
Result<> set_device_filter(const std::string& cgroup_dir, const std::vector<DeviceCgroupRule>& rules);

// Programs attached to `cgroup_dir` for device control (0 when none).
Result<size_t> device_filter_count(const std::string& cgroup_dir);

}  // namespace stack::rt
