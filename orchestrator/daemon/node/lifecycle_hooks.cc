#include "orchestrator/daemon/node/lifecycle_hooks.h"

#include <linux/capability.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/io.h"
#include "orchestrator/compose/serialize.h"
#include "orchestrator/daemon/node/child_process.h"
#include "orchestrator/daemon/node/replica_fs.h"
#include "orchestrator/daemon/node/spec_builder.h"
#include "runtime/container/exec.h"
#include "runtime/kernel/capabilities.h"
#include "runtime/oci/spec.h"

namespace stack::orch {

namespace {

constexpr size_t kHookOutputLimit = 4096;

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out.size() > 60 ? out.substr(0, 57) + "..." : out;
}

stack::Result<void> run_one(const HookTarget& t, const compose::LifecycleHook& h) {
  rt::StateDir state(t.runtime_root);
  auto proc = rt::exec_process_from(state, t.id);
  if (!proc) return tl::unexpected(proc.error());
  proc->args = h.command;
  proc->terminal = false;
  std::vector<std::string> env;
  for (const auto& [k, v] : h.environment) env.push_back(k + "=" + v);
  proc->env = merge_env(proc->env, env);
  if (!h.working_dir.empty()) proc->cwd = h.working_dir;
  if (!h.user.empty()) {
    const std::string rootfs = t.container_dir + "/rootfs";
    auto passwd = read_in_rootfs(rootfs, "/etc/passwd");
    auto group = read_in_rootfs(rootfs, "/etc/group");
    auto u = resolve_user(h.user, passwd ? *passwd : "", group ? *group : "");
    if (!u) return tl::unexpected(u.error().wrap("user"));
    proc->user = u->user;
  }
  if (h.privileged) {
    rt::Capabilities caps;
    for (int c = 0; c <= CAP_LAST_CAP; c++) caps.bounding.push_back(rt::capability_name(c));
    caps.effective = caps.permitted = caps.bounding;
    proc->capabilities = caps;
  }
  static std::atomic<unsigned> seq{0};
  const std::string file = t.container_dir + "/hook-" + std::to_string(::getpid()) + "-" + std::to_string(++seq) + ".json";
  rt::Spec holder;
  holder.process = *proc;
  STACK_TRY(io::write_file_atomic(file, rt::spec_to_json(holder)["process"].dump()));
  auto run = run_captured({t.runtime_bin, "--root", t.runtime_root, "exec", "--process", file, "--", t.id},
                          kHookTimeoutMs, kHookOutputLimit);
  ::unlink(file.c_str());
  if (!run) return tl::unexpected(run.error());
  if (run->timed_out) return stack::fail("did not finish within " + std::to_string(kHookTimeoutMs / 1000) + " s");
  if (run->status != 0) {
    std::string out = run->output;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return stack::fail("exited with status " + std::to_string(run->status) + (out.empty() ? "" : ": " + out));
  }
  return {};
}

}  // namespace

stack::Result<void> run_hooks(const HookTarget& t, const std::vector<compose::LifecycleHook>& hooks,
                           const std::string& which) {
  for (size_t i = 0; i < hooks.size(); ++i)
    if (auto r = run_one(t, hooks[i]); !r)
      return tl::unexpected(r.error().wrap(which + "[" + std::to_string(i) + "] (" + joined(hooks[i].command) + ")"));
  return {};
}

stack::Result<void> save_pre_stop(const std::string& dir, const std::vector<compose::LifecycleHook>& hooks) {
  if (hooks.empty()) return {};
  return io::write_file_atomic(dir + "/pre_stop.json", compose::hooks_to_json(hooks).dump());
}

std::vector<compose::LifecycleHook> take_pre_stop(const std::string& dir) {
  const std::string file = dir + "/pre_stop.json", taken = dir + "/pre_stop.taken";
  // The rename is the "once": a second stop signal finds nothing.
  if (::rename(file.c_str(), taken.c_str()) != 0) return {};
  return compose::hooks_from_json(nlohmann::json::parse(io::read_text(taken), nullptr, false));
}

}  // namespace stack::orch
