// linux.resources.blockIO written into a cgroup directory: the v1 blkio
// files (blkio.weight or blkio.bfq.weight, blkio.throttle.*) and their v2
// counterparts (io.bfq.weight or io.weight, io.max). The backends pick the
// directory (and report an unmounted controller); this only turns the spec's
// values into the files' formats. Every error names the spec field, so
// `create` says which setting the host refused instead of running the
// container without it.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/oci/spec.h"
#include "base/error.h"

namespace stack::rt {

// Whether any field is set that needs the blkio (v1) / io (v2) controller.
// 0 is "unset" for weights, as in runc (Docker sends 0 for what the user did
// not give).
bool block_io_requested(const BlockIoResources& b);

// blkio weight (10..1000) -> io.weight (1..10000), runc's formula
// 1 + (weight - 10) * 9999 / 990; 0 (unset) stays 0. Out-of-range weights are
// clamped first so the result is always a value io.weight accepts.
uint64_t blkio_weight_to_io_weight(uint64_t weight);

// "major:minor value", the line format of every per-device file.
std::string device_line(int64_t major, int64_t minor, const std::string& value);

// cgroup v1; `dir` is the container's directory in the blkio hierarchy.
Result<> set_blkio_v1(const std::string& dir, const BlockIoResources& b);
// cgroup v2; the io controller is enabled for `dir`.
Result<> set_io_v2(const std::string& dir, const BlockIoResources& b);

}  // namespace stack::rt
