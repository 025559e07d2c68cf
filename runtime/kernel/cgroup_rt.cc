#include "runtime/kernel/cgroup_rt.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "runtime/kernel/cgroup.h"

namespace stack::rt {
namespace {

// The directory of `cgroup_path` in the v1 hierarchy that carries "cpu".
Result<std::string> cpu_dir(const std::string& cgroup_path) {
  auto m = make_cgroup_manager(cgroup_path, "");
  if (!m) return tl::unexpected(m.error());
  for (const auto& h : (*m)->hierarchies())
    if (!h.unified && std::count(h.controllers.begin(), h.controllers.end(), "cpu")) return h.dir;
  return fail("no cgroup v1 cpu hierarchy is mounted: real-time CPU limits are cgroup v1's only", ENOTSUP);
}

}  // namespace

Result<int64_t> cgroup_rt_runtime(const std::string& cgroup_path) {
  auto dir = cpu_dir(cgroup_path);
  if (!dir) return tl::unexpected(dir.error());
  if (!cgroupfs::exists(*dir + "/cpu.rt_runtime_us")) return 0;
  auto v = cgroupfs::read_limit(*dir + "/cpu.rt_runtime_us");
  if (!v) return tl::unexpected(v.error());
  return v->value_or(0);
}

Result<> set_cgroup_rt_runtime(const std::string& cgroup_path, int64_t us) {
  auto dir = cpu_dir(cgroup_path);
  if (!dir) return tl::unexpected(dir.error());
  std::error_code ec;
  std::filesystem::create_directories(*dir, ec);
  if (ec) return fail("create " + *dir + ": " + ec.message(), ec.value());
  auto w = cgroupfs::write(*dir + "/cpu.rt_runtime_us", std::to_string(us));
  if (!w) return tl::unexpected(w.error().wrap("real-time budget of " + cgroup_path));
  return {};
}

}  // namespace stack::rt
