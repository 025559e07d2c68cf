// The device cgroup rules every container gets (the host-block-device
// escape: without them a container with CAP_MKNOD can make a node for the
// host's disk and read it). Docker and runc deny everything, then allow the
// few character devices a normal program uses, whatever the spec says (as
// runc does: generated configs and Kubernetes send a list that starts with
// "deny a", which must not take /dev/null away); a privileged spec's
// "allow a" still opens everything.
//
// Order of the effective list:
//   1. deny all ("a *:* rwm");
//   2. linux.resources.devices, in order;
//   3. the allow list (runc's AllowedDevices, Docker's too): mknod of any
//      c/b node (making a node is harmless, opening it is what counts),
//      /dev/null, zero, full, random, urandom, tty, console, ptmx, net/tun
//      and the pty slaves (136:*).
// A node listed in linux.devices is made but not opened up: its access is
// what the rules say, as under runc (Docker, podman and stackd's spec
// builder add a rule with the permissions the user gave, e.g. "r" only).
// Policy, not a kernel wrapper: the cgroup backends apply whatever list they
// are given (cgroup_v1 devices.allow/deny, device_filter.h on v2).
#pragma once

#include <vector>

#include "runtime/oci/spec.h"

namespace stack::rt {

// Items 1 and 3: in force from the cgroup's creation, while the init makes
// /dev (it needs mknod, which a spec's own deny-all would take away).
const std::vector<DeviceCgroupRule>& default_device_rules();

// The whole list for `spec`: replaces the defaults before the user's
// program runs.
std::vector<DeviceCgroupRule> effective_device_rules(const Spec& spec);

}  // namespace stack::rt
