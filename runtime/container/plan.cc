#include "runtime/container/plan.h"

#include <sched.h>

#include "runtime/container/lsm_plan.h"
#include "runtime/kernel/namespaces.h"

namespace stack::rt {

Result<> plan_process(const Process& process, const Spec& spec, const std::string& seccomp_cache,
                      PlanOwner& out) {
  InitPlan& p = out.plan;
  auto caps = plan_capabilities(process.capabilities);
  if (!caps) return tl::unexpected(caps.error());
  p.caps = *caps;
  auto rl = plan_rlimits(process.rlimits);
  if (!rl) return tl::unexpected(rl.error());
  p.rlimits = std::move(*rl);
  for (auto& w : p.rlimits.warnings) out.warnings.push_back(w);
  // Inside a user namespace whose gid map was written by us, setgroups stays
  // allowed (we write gid_map as root on the host).
  p.identity = plan_identity(process.user, true);
  p.no_new_privileges = process.no_new_privileges;
  auto labels = plan_exec_labels(process);
  if (!labels) return tl::unexpected(labels.error());
  p.exec_labels = std::move(*labels);
  if (spec.linux.seccomp) {
    auto prog = compile_seccomp(*spec.linux.seccomp, seccomp_cache);
    // Validation errors already name the field ("linux.seccomp: syscalls[3]...").
    if (!prog) return tl::unexpected(prog.error().within("linux.seccomp"));
    p.seccomp = std::move(*prog);
  }
  if (process.console_size) {
    p.console_rows = process.console_size->height;
    p.console_cols = process.console_size->width;
  }
  p.cwd = process.cwd;
  p.args = process.args;
  p.env = process.env;
  p.exec_candidates = exec_candidates(process.args[0], process.env);
  p.finalize();
  return {};
}

Result<int> plan_container(const Spec& spec, const ContainerPlanOptions& options,
                           const std::string& seccomp_cache, PlanOwner& out) {
  InitPlan& p = out.plan;
  int clone_flags = 0;
  for (auto& kind : namespace_kinds()) {
    const NamespaceSpec* ns = find_namespace(spec, kind.oci);
    if (!ns) continue;
    if (!kernel_has_namespace(kind)) {
      // The time namespace is optional (older kernels); anything else missing
      // is an error the user must see.
      if (std::string(kind.oci) == "time") {
        out.warnings.push_back("time namespace not supported by this kernel; ignored");
        continue;
      }
      return fail(std::string("linux.namespaces: the kernel has no ") + kind.oci + " namespace", EINVAL);
    }
    if (!ns->path.empty()) {
      auto fd = open_namespace(ns->path, kind);
      if (!fd) return tl::unexpected(fd.error().wrap("linux.namespaces"));
      p.join.push_back({fd->get(), kind.clone_flag});
      out.fds.push_back(std::move(*fd));
      continue;
    }
    if (kind.clone_flag == CLONE_NEWCGROUP) {
      p.unshare_cgroup = true;  // after the parent has put us in the cgroup
    } else {
      clone_flags |= kind.clone_flag;
    }
  }
  p.new_user_ns = clone_flags & CLONE_NEWUSER;
  p.loopback_up = clone_flags & CLONE_NEWNET;
  if ((spec.linux.uid_mappings.empty() || spec.linux.gid_mappings.empty()) && p.new_user_ns)
    return fail("linux.uidMappings and linux.gidMappings are required with a new user namespace", EINVAL);

  RootfsOptions ro;
  ro.rootfs = options.rootfs;
  ro.bundle = options.bundle;
  ro.no_pivot = options.no_pivot;
  ro.in_user_ns = p.new_user_ns;
  // No mount namespace listed: the runtime's is inherited, as the runtime
  // spec requires (rootfs.h says what changes then).
  ro.inherit_mount_ns = !has_namespace(spec, "mount");
  auto label = plan_mount_label(spec);
  if (!label) return tl::unexpected(label.error());
  ro.mount_label = std::move(*label);
  auto rootfs = plan_rootfs(spec, ro);
  if (!rootfs) return tl::unexpected(rootfs.error());
  p.rootfs = std::move(*rootfs);

  // linux.sysctl is planned and written by the rootfs (verified procfs
  // writes, rootfs.h).
  p.hostname = spec.hostname;
  p.domainname = spec.domainname;
  // Kernel memory limits are gone from the kernel (v1 kmem limits since
  // 5.16, never in v2); runc ignores them too, but the user should know.
  if (auto& r = spec.linux.resources; r && r->memory) {
    if (r->memory->kernel && *r->memory->kernel)
      out.warnings.push_back("linux.resources.memory.kernel: kernel memory limits are not supported by the "
                             "kernel; ignored");
    if (r->memory->kernel_tcp && *r->memory->kernel_tcp)
      out.warnings.push_back("linux.resources.memory.kernelTCP: kernel TCP memory limits are not supported; ignored");
  }
  auto proc = plan_process(spec.process, spec, seccomp_cache, out);
  if (!proc) return tl::unexpected(proc.error());
  return clone_flags;
}

}  // namespace stack::rt
