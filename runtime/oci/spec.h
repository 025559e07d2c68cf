// The OCI runtime-spec (config.json) as plain structs. Parsed once, validated
// with errors that name the JSON field ("process.args: must be a non-empty
// array"), and serialised back for `stack-runtime spec`. Fields we do not
// implement are kept out of the structs; unknown fields are ignored, as runc
// ignores them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/error.h"

namespace stack::rt {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;  // "CAP_CHOWN"
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile;  // applied when AppArmor is enabled, else create fails (lsm_plan.h)
  std::string selinux_label;     // applied when SELinux is enabled, else create fails
};

struct Root {
  std::string path = "rootfs";  // relative to the bundle, or absolute
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct NamespaceSpec {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup, time
  std::string path;  // join this one instead of creating a new one
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Device {
  std::string path;
  std::string type;  // c, b, u, p
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct DeviceCgroupRule {
  bool allow = false;
  std::string type;  // a, c, b ("" = all)
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::string access;  // subset of "rwm"
};

struct MemoryResources {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;  // memory+swap, as runc (-1 = unlimited)
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;
  // Kernel memory limits: parsed so create can warn that they are ignored
  // (the kernel dropped kmem limits in 5.16 and v2 never had them).
  std::optional<int64_t> kernel;
  std::optional<int64_t> kernel_tcp;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::string cpus;  // cpuset, "0-1"
  std::string mems;
};

struct PidsResources {
  int64_t limit = 0;  // <= 0 means unlimited
};

// linux.resources.blockIO (cgroup v1 blkio, v2 io). 0 means "unset", as in
// runc (Docker sends 0 for what the user did not give).
struct WeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;
};

struct ThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;  // bytes or operations per second
};

struct BlockIoResources {
  std::optional<uint16_t> weight;       // 10..1000
  std::optional<uint16_t> leaf_weight;  // 10..1000, v1 CFQ only
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps_device, throttle_write_bps_device;
  std::vector<ThrottleDevice> throttle_read_iops_device, throttle_write_iops_device;
};

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB", "64KB"
  uint64_t limit = 0;     // bytes
};

struct InterfacePriority {
  std::string name;  // interface, "eth0"
  uint32_t priority = 0;
};

// linux.resources.network (cgroup v1 net_cls and net_prio only).
struct NetworkResources {
  std::optional<uint32_t> class_id;
  std::vector<InterfacePriority> priorities;
};

struct Resources {
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<PidsResources> pids;
  std::vector<DeviceCgroupRule> devices;
  std::optional<BlockIoResources> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::optional<NetworkResources> network;
  std::map<std::string, std::string> unified;  // cgroup v2 "file" -> value
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_EQ ...
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_ALLOW ...
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action = "SCMP_ACT_ALLOW";
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_X86_64 ...
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::vector<SeccompSyscall> syscalls;
};

struct Linux {
  std::vector<NamespaceSpec> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<Resources> resources;
  std::string rootfs_propagation;  // private, rprivate, slave, rslave, shared, rshared, unbindable
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::string mount_label;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
};

struct Spec {
  std::string oci_version = "1.0.2";
  Process process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Linux linux;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
};

// Parse and validate. `origin` names the file in error messages.
Result<Spec> parse_spec(const nlohmann::json& j, const std::string& origin = "config.json");
Result<Spec> load_spec(const std::string& path);
Result<Spec> parse_spec_text(const std::string& text, const std::string& origin = "config.json");
nlohmann::json spec_to_json(const Spec& spec);

// A `process` object alone (for `exec --process process.json`).
Result<Process> parse_process(const nlohmann::json& j, const std::string& origin);

// Helpers used across modules.
bool has_namespace(const Spec& spec, const std::string& type);
const NamespaceSpec* find_namespace(const Spec& spec, const std::string& type);

}  // namespace stack::rt
