#include "runtime/kernel/cgroup_hugetlb.h"

#include <dirent.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "runtime/kernel/cgroup.h"

namespace stack::rt {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

std::string field(size_t i) { return "linux.resources.hugepageLimits[" + std::to_string(i) + "]"; }

// Refuses a page size the kernel does not have, listing the ones it has.
Result<> check_sizes(const std::vector<HugepageLimit>& limits) {
  if (limits.empty()) return {};
  const auto have = host_hugepage_sizes();
  for (size_t i = 0; i < limits.size(); ++i) {
    if (std::find(have.begin(), have.end(), limits[i].page_size) != have.end()) continue;
    std::string list;
    for (const auto& h : have) list += (list.empty() ? "" : ", ") + h;
    return fail(field(i) + ".pageSize \"" + limits[i].page_size + "\": not a huge page size of this host (" +
                    (list.empty() ? std::string("it has none") : "it has " + list) + ")",
                EINVAL);
  }
  return {};
}

// `file` then, where the kernel has it, the reservation limit beside it.
Result<> write_limit(const std::string& file, const std::string& rsvd_file, uint64_t limit, size_t i) {
  auto r = cgroupfs::write(file, std::to_string(limit));
  if (!r) return tl::unexpected(r.error().wrap(field(i) + ".limit"));
  if (!cgroupfs::exists(rsvd_file)) return {};
  r = cgroupfs::write(rsvd_file, std::to_string(limit));
  if (!r) return tl::unexpected(r.error().wrap(field(i) + ".limit"));
  return {};
}

}  // namespace

std::string hugepage_size_name(uint64_t kb) {
  static const char* const units[] = {"KB", "MB", "GB", "TB"};
  size_t u = 0;
  while (kb >= 1024 && kb % 1024 == 0 && u + 1 < std::size(units)) {
    kb /= 1024;
    ++u;
  }
  return std::to_string(kb) + units[u];
}

std::vector<std::string> host_hugepage_sizes() {
  std::vector<std::string> out;
  std::unique_ptr<DIR, DirCloser> d(::opendir("/sys/kernel/mm/hugepages"));
  if (!d) return out;  // no hugetlbfs support: no sizes
  while (dirent* e = ::readdir(d.get())) {
    // "hugepages-2048kB"
    const std::string name = e->d_name;
    const std::string prefix = "hugepages-", suffix = "kB";
    if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    uint64_t kb = 0;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size() - suffix.size();
    auto [p, ec] = std::from_chars(first, last, kb);
    if (ec == std::errc() && p == last && kb) out.push_back(hugepage_size_name(kb));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<> set_hugetlb_v1(const std::string& dir, const std::vector<HugepageLimit>& limits) {
  STACK_TRY(check_sizes(limits));
  for (size_t i = 0; i < limits.size(); ++i) {
    const std::string base = dir + "/hugetlb." + limits[i].page_size;
    STACK_TRY(write_limit(base + ".limit_in_bytes", base + ".rsvd.limit_in_bytes", limits[i].limit, i));
  }
  return {};
}

Result<> set_hugetlb_v2(const std::string& dir, const std::vector<HugepageLimit>& limits) {
  STACK_TRY(check_sizes(limits));
  for (size_t i = 0; i < limits.size(); ++i) {
    const std::string base = dir + "/hugetlb." + limits[i].page_size;
    STACK_TRY(write_limit(base + ".max", base + ".rsvd.max", limits[i].limit, i));
  }
  return {};
}

}  // namespace stack::rt
