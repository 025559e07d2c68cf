// The normalized stack model: what a Compose file means once it is parsed,
// interpolated, merged (several -f files, extends, include), filtered by
// profiles, validated and given its defaults. Everything downstream (stackd,
// the scheduler adapter, `stack config`) reads only this; nobody looks at YAML
// again. Plain values, no behaviour: the loader (loader.h) builds them.
//
// Units are normalized: durations in milliseconds, sizes in bytes, cpus as a
// double. Optional fields that Compose leaves to the engine default are
// std::optional / empty so the engine can tell "unset" from "set to zero".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stack::compose {

using Millis = int64_t;

// One published or exposed port after expansion of every Compose form:
// "3000", "80:3000", "127.0.0.1:8080:80", "[::1]:80:80", ranges
// "9000-9002:9000-9002", "/udp", and the long syntax.
struct PortSpec {
  uint16_t target = 0;         // container port (first of a range)
  uint16_t target_end = 0;     // == target unless a range
  std::string host_ip;         // "" = every address
  uint16_t published = 0;      // 0 = not published (pick nothing: we do not publish "3000" alone
                               // on an ephemeral port unless published_auto)
  uint16_t published_end = 0;  // == published unless a range
  bool published_auto = false; // short form "3000": Compose publishes on an ephemeral host port
  std::string protocol = "tcp";  // "tcp" | "udp"
  std::string app_protocol;
  std::string mode = "ingress";
  std::string name;
};

struct Mount {
  std::string type;    // "volume" | "bind" | "tmpfs"
  std::string source;  // volume name (project-scoped key as in the file), absolute host path, or ""
  std::string target;  // absolute container path
  bool read_only = false;
  bool create_host_path = true;  // bind: create a missing source dir (Compose short syntax does)
  std::optional<uint64_t> tmpfs_size;  // bytes
  std::optional<uint32_t> tmpfs_mode;
  std::string consistency;
  bool nocopy = false;  // volume.nocopy
  std::string bind_propagation;  // "", "rprivate", "shared", ...
};

struct ServiceNetwork {
  std::vector<std::string> aliases;
  std::string ipv4_address;
  std::string ipv6_address;
  std::string mac_address;  // "02:42:ac:11:00:02"; "" = the kernel's
  std::optional<int> priority;
};

struct Dependency {
  std::string condition = "service_started";  // service_started | service_healthy |
                                              // service_completed_successfully
  bool restart = false;
  bool required = true;
};

struct Healthcheck {
  // test[0] is "CMD", "CMD-SHELL" or "NONE" (normalized: a plain string is CMD-SHELL).
  std::vector<std::string> test;
  Millis interval = 30000;
  Millis timeout = 30000;
  int retries = 3;
  Millis start_period = 0;
  Millis start_interval = 5000;
  bool disable = false;  // also true for test ["NONE"]
};

// Our extension `x-healthcheck`: probes run from the host side (minimal images
// have no curl). Exactly one of http/tcp is set. Timing fields as Healthcheck.
// x-autoscale (compose/autoscale.h): a service's replicas between min and
// max, following its targets (each optional, one at least).
struct ScaleStep {
  Millis stabilization = 0;  // a decision must hold this long
  int max_step = 1;          // replicas added (removed) at most...
  Millis period = 15000;     // ...per this long
};

struct Autoscale {
  int min = 1;
  int max = 1;
  std::optional<double> cpu;     // percent of the replica's CPU (its cpus limit, else reservation, else one CPU)
  std::optional<double> memory;  // percent of its memory limit
  std::optional<double> requests_per_second;  // per replica, on its published ports
  ScaleStep scale_up{0, 4, 15000};
  ScaleStep scale_down{300000, 1, 60000};
};

struct NativeProbe {
  std::string kind;       // "http" | "tcp"
  uint16_t port = 0;
  std::string path = "/"; // http only
  int expect_status_min = 200, expect_status_max = 399;  // http only
  Millis interval = 30000;
  Millis timeout = 30000;
  int retries = 3;
  Millis start_period = 0;
  Millis start_interval = 5000;
};

struct RestartPolicy {  // deploy.restart_policy
  std::string condition = "any";  // none | on-failure | any
  Millis delay = 0;               // 0 = our exponential backoff
  std::optional<int> max_attempts;
  std::optional<Millis> window;
};

struct DeviceRequest {  // deploy.resources.reservations.devices / gpus
  std::vector<std::string> capabilities;  // e.g. ["gpu"]
  std::string driver;
  std::optional<int64_t> count;  // -1 = all
  std::vector<std::string> device_ids;
  std::map<std::string, std::string> options;
};

struct Resources {
  std::optional<double> cpus;
  std::optional<uint64_t> memory;  // bytes
  std::optional<int64_t> pids;
  std::vector<DeviceRequest> devices;  // reservations only
};

struct UpdateConfig {
  int parallelism = 1;
  Millis delay = 0;
  std::string failure_action = "pause";
  std::string order = "stop-first";
  std::optional<Millis> monitor;  // unset: Swarm's 5s
  std::optional<double> max_failure_ratio;
};

// deploy.replicas is not kept here: it is the service's one replica count,
// Service::replicas.
struct Deploy {
  std::string mode = "replicated";
  Resources limits;
  Resources reservations;
  std::optional<RestartPolicy> restart_policy;
  std::optional<UpdateConfig> update_config;
  std::optional<UpdateConfig> rollback_config;
  std::map<std::string, std::string> labels;
  std::vector<std::string> placement_constraints;
  std::optional<int> max_replicas_per_node;       // placement.max_replicas_per_node
  std::vector<std::string> placement_spread;      // placement.preferences[].spread: "node.labels.zone"
};

struct Ulimit {
  int64_t soft = 0;
  int64_t hard = 0;
};

struct DeviceMapping {  // devices: "/dev/fuse:/dev/fuse:rwm"
  std::string source;
  std::string target;
  std::string permissions = "rwm";
};

// `build:` (short form "./dir" or the long form). stack does not build yet:
// the image the build would produce must already be in the store (build.h).
struct Build {
  std::string context;                    // absolute path, or a remote context (git/http URL) as written
  std::string dockerfile = "Dockerfile";  // relative to the context, as written
  std::map<std::string, std::string> args;
  std::string target;
};

// One entry of a service's `secrets:` or `configs:` ("name" or the long
// form). What it mounts and where: file_objects.h.
struct SecretRef {
  std::string source;
  std::string target;  // "" = /run/secrets/<source> (a secret), /<source> (a config)
  std::string uid;
  std::string gid;
  std::optional<uint32_t> mode;  // "0440" and 0o440 read as octal, as Compose reads them
};

// blkio_config: per-device entries name a host block device by path.
struct BlkioDeviceRate {
  std::string path;
  uint64_t rate = 0;  // weight_device: the weight; *_bps: bytes/s; *_iops: operations/s
};

struct BlkioConfig {
  std::optional<uint16_t> weight;  // 10..1000
  std::vector<BlkioDeviceRate> weight_device;
  std::vector<BlkioDeviceRate> device_read_bps, device_write_bps;
  std::vector<BlkioDeviceRate> device_read_iops, device_write_iops;
};

// The cgroup fields of a service beyond the common limits (resources.h
// parses them; the node's spec builder applies them). Kept together so a
// replica's spec carries them as one object.
struct ResourceTuning {
  std::optional<uint64_t> mem_reservation;  // soft limit (v1 soft_limit_in_bytes, v2 memory.low)
  std::optional<int64_t> memswap_limit;     // memory + swap, bytes; -1 = unlimited swap
  std::optional<int64_t> mem_swappiness;    // 0..100 (v1 only)
  bool oom_kill_disable = false;
  std::optional<int64_t> cpu_period;  // CFS period, microseconds
  std::optional<int64_t> cpu_quota;   // CFS quota per period, microseconds
  std::optional<BlkioConfig> blkio;
  std::vector<std::string> device_cgroup_rules;  // "c 1:3 mr", as Docker writes them (validated)
  std::string cgroup_parent;             // "/a/b": the replica's cgroup is /a/b/<id> ("" = /stack/<id>)
  std::optional<int64_t> cpu_rt_runtime;  // real-time runtime per period, microseconds (v1)
  std::optional<int64_t> cpu_rt_period;   // microseconds
};

// `logging:` as written, driver and options checked (logging.h).
struct Logging {
  std::string driver = "json-file";
  std::map<std::string, std::string> options;
  bool operator==(const Logging&) const = default;
};

// One entry of `post_start:` or `pre_stop:` (hooks.h).
struct LifecycleHook {
  std::vector<std::string> command;
  std::string user;  // "" = the service's user
  bool privileged = false;
  std::map<std::string, std::string> environment;
  std::string working_dir;  // "" = the service's
};

struct Service {
  std::string name;
  std::string image;  // as written; for `build:` without `image:`, "<project>-<service>" (build.h)
  std::optional<Build> build;
  std::optional<std::vector<std::string>> command;     // unset = the image's CMD
  std::optional<std::vector<std::string>> entrypoint;  // unset = the image's ENTRYPOINT
  std::map<std::string, std::string> environment;      // env_file merged in, file entries first
  std::vector<PortSpec> ports;
  std::vector<std::string> expose;
  std::vector<Mount> volumes;  // volumes + tmpfs, normalized to mounts
  std::map<std::string, ServiceNetwork> networks;  // default: {"default": {}} unless network_mode
  std::map<std::string, Dependency> depends_on;
  // "SERVICE[:ALIAS]": ALIAS names SERVICE on the networks both share, and
  // SERVICE is a dependency (as Compose makes it).
  std::vector<std::string> links;
  // "[service:]NAME[:ro|rw]" or "container:NAME[:ro|rw]": the volume and bind
  // mounts of NAME (a service: its first replica's) at the same targets.
  std::vector<std::string> volumes_from;
  std::optional<Healthcheck> healthcheck;   // from the file; unset = the image's HEALTHCHECK
  std::optional<NativeProbe> native_probe;  // x-healthcheck
  std::optional<Autoscale> autoscale;       // x-autoscale
  std::string restart = "no";               // no | always | on-failure[:N] | unless-stopped (task_spec.h)
  Deploy deploy;
  int replicas = 1;  // the one replica count: deploy.replicas, else scale, else 1
  std::string user;
  std::string working_dir;
  std::string hostname;
  std::string domainname;
  std::string container_name;
  std::map<std::string, std::string> labels;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::vector<std::string> security_opt;
  bool read_only = false;
  bool privileged = false;
  bool init = false;
  bool tty = false;
  bool stdin_open = false;
  bool attach = true;
  std::vector<LifecycleHook> post_start;  // run in the replica once it started
  std::vector<LifecycleHook> pre_stop;    // run in the replica before its stop signal  // false: `up` without -d does not follow its output
  std::string stop_signal = "SIGTERM";      // as written; the loader checks it names a signal
  Millis stop_grace_period = 10000;
  std::map<std::string, Ulimit> ulimits;
  std::map<std::string, std::string> sysctls;
  std::optional<int64_t> pids_limit;  // resolved: pids_limit else deploy.resources.limits.pids
  std::optional<uint64_t> mem_limit;  // resolved: mem_limit else deploy.resources.limits.memory
  std::optional<double> cpus;         // resolved: cpus else deploy.resources.limits.cpus
  std::optional<int64_t> cpu_shares;  // relative CPU weight (cgroup v1 cpu.shares; v2 cpu.weight)
  std::string cpuset;                 // CPUs the replica may run on, "0-2,4" ("" = all)
  ResourceTuning tuning;
  Logging logging;
  std::string pid;     // "" (own) | host (isolation.h)
  std::string ipc;     // "" | host | private | shareable
  std::string uts;     // "" | host
  std::string cgroup;  // "" (the runtime's default: own) | host | private
  std::vector<std::string> group_add;             // supplementary groups: gids or names in the image's /etc/group
  std::map<std::string, std::string> annotations;  // OCI annotations of the container
  std::vector<std::string> extra_hosts;  // "name:ip" (normalized from both forms)
  std::vector<std::string> dns;
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_opt;
  std::vector<DeviceMapping> devices;
  std::optional<uint64_t> shm_size;
  std::string network_mode;  // "", "none", "host", "service:x", "container:x"
  std::string mac_address;   // the first network's (Compose's older form of networks.X.mac_address)
  std::vector<std::string> profiles;
  std::string pull_policy;
  std::string pull_refresh_after;  // with pull_policy: refresh (task_spec.h PullRule)
  std::vector<SecretRef> secrets;
  std::vector<SecretRef> configs;
  std::string platform;  // printed; images are pulled for the host platform
  std::string runtime;   // printed; stack always uses its own runtime
  std::optional<int> oom_score_adj;
  uint64_t egress_bytes_per_sec = 0;  // x-egress-rate ("10mbit"): tc tbf on each interface; 0 = none
  std::map<std::string, std::string> extensions;  // x-* keys of the service, as JSON text
};

struct NetworkDef {
  std::string name;  // key in the file
  std::string driver = "bridge";
  bool internal = false;
  bool external = false;
  bool attachable = false;
  bool enable_ipv6 = false;
  std::string external_name;  // name: field (external or explicit)
  std::vector<std::string> subnets;   // ipam.config[].subnet
  std::vector<std::string> gateways;  // ipam.config[].gateway, "" where unset
  std::map<std::string, std::string> driver_opts;  // e.g. com.docker.network.driver.mtu
  std::map<std::string, std::string> labels;
};

struct VolumeDef {
  std::string name;
  std::string driver = "local";
  bool external = false;
  std::string external_name;
  std::map<std::string, std::string> driver_opts;
  std::map<std::string, std::string> labels;
};

struct ConfigOrSecretDef {
  std::string name;
  std::string file;         // absolute
  std::string content;
  std::string environment;  // variable name
  bool external = false;
  // The bytes, read by the CLI's loader when a service uses it
  // (file_objects.h); unset until then. In JSON as base64.
  std::optional<std::string> data;
};

struct Project {
  std::string name;         // top-level name, else -p, else the first file's stem
  std::string working_dir;  // directory of the first file: relative paths resolve here
  std::vector<std::string> files;  // absolute paths of the files loaded, in order
  std::map<std::string, Service> services;  // only services of active profiles
  std::map<std::string, NetworkDef> networks;  // "default" added when a service uses it
  std::map<std::string, VolumeDef> volumes;
  std::map<std::string, ConfigOrSecretDef> configs;
  std::map<std::string, ConfigOrSecretDef> secrets;
  std::map<std::string, std::string> extensions;  // top-level x-*, as JSON text
};

}  // namespace stack::compose
