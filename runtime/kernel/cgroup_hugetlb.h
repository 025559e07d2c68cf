// linux.resources.hugepageLimits written into a cgroup directory: v1
// hugetlb.<size>.limit_in_bytes, v2 hugetlb.<size>.max, and the reservation
// files beside them where the kernel has those (5.7+), as runc does, so a
// mmap(MAP_NORESERVE)-less reservation cannot exceed the limit either. Page
// sizes are checked against what the kernel offers, so a typo ("2M") fails
// `create` naming the field instead of an ENOENT on a file name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/oci/spec.h"
#include "base/error.h"

namespace stack::rt {

// 2048 (kB, from /sys/kernel/mm/hugepages/hugepages-2048kB) -> "2MB", the
// name the hugetlb files use; KB/MB/GB in powers of 1024, the largest unit
// that divides evenly (runc's naming).
std::string hugepage_size_name(uint64_t kb);
// The huge page sizes this kernel offers, by that name ("2MB", "1GB").
std::vector<std::string> host_hugepage_sizes();

// cgroup v1; `dir` is the container's directory in the hugetlb hierarchy.
Result<> set_hugetlb_v1(const std::string& dir, const std::vector<HugepageLimit>& limits);
// cgroup v2; the hugetlb controller is enabled for `dir`.
Result<> set_hugetlb_v2(const std::string& dir, const std::vector<HugepageLimit>& limits);

}  // namespace stack::rt
