#include "runtime/kernel/cgroup_rt.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <thread>
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
  // A child removed just now still counts against the parent until the
  // kernel frees it after an RCU grace period (up to 2 s after a container's
  // delete, measured here): lowering the budget below that child's share
  // fails with EINVAL for the moment, so a lowering is retried briefly. A
  // raise that fails is a real refusal (more than the grandparent grants).
  auto before = cgroupfs::read_limit(*dir + "/cpu.rt_runtime_us");
  const bool lowering = before && before->value_or(0) > us;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    auto w = cgroupfs::write(*dir + "/cpu.rt_runtime_us", std::to_string(us));
    if (w) return {};
    if (!lowering || w.error().code != EINVAL || std::chrono::steady_clock::now() >= deadline)
      return tl::unexpected(w.error().wrap("real-time budget of " + cgroup_path));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace stack::rt
