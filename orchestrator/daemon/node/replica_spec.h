// ReplicaSpec: what a node needs of a service to create one of its replicas,
// and nothing else: no replica count, restart policy, health check or
// dependencies (those are the supervisor's, in the scheduler's ServiceSpec),
// no build context, profiles or pull policy. A cluster agent will receive
// exactly this.
//
// Its canonical JSON (fields at their default value left out, keys sorted)
// is also what config_hash (stack_spec.h) hashes: a field added in a later
// version, while it keeps its default, changes neither the JSON nor the hash,
// so an upgraded stackd does not replace running replicas.
//
// Field names and types are the compose model's, so code that read a
// compose::Service reads a ReplicaSpec unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "orchestrator/compose/model.h"

namespace stack::orch {

struct ReplicaSpec {
  std::string name;  // the service's (for messages)
  std::string image;
  std::optional<std::vector<std::string>> command;     // unset = the image's CMD
  std::optional<std::vector<std::string>> entrypoint;  // unset = the image's ENTRYPOINT
  std::map<std::string, std::string> environment;
  std::string user;
  std::string working_dir;
  std::string hostname;
  std::string domainname;
  std::map<std::string, std::string> labels;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::vector<std::string> security_opt;
  bool read_only = false;
  bool privileged = false;
  bool init = false;
  bool tty = false;         // the main process gets a pty (its shim holds the master)
  bool stdin_open = false;  // its stdin is a pipe its shim keeps open (`stack attach` writes to it)
  std::string stop_signal = "SIGTERM";  // validated by the loader; kept in the container's annotations
  std::map<std::string, compose::Ulimit> ulimits;
  std::map<std::string, std::string> sysctls;
  std::optional<int64_t> pids_limit;
  std::optional<uint64_t> mem_limit;
  std::optional<double> cpus;
  std::optional<int64_t> cpu_shares;
  std::string cpuset;
  compose::ResourceTuning tuning;
  compose::Logging logging;
  std::string pid, ipc, uts, cgroup;  // namespace modes (compose/isolation.h)
  std::string platform;
  std::vector<compose::LifecycleHook> post_start, pre_stop;  // compose/hooks.h               // "" = the host's; else it must be (nothing is emulated)
  std::vector<std::string> group_add;
  std::map<std::string, std::string> annotations;
  std::optional<int> oom_score_adj;
  std::vector<compose::DeviceMapping> devices;
  std::optional<uint64_t> shm_size;
  std::vector<compose::Mount> volumes;
  std::string network_mode;
  std::vector<std::string> extra_hosts;
  std::vector<std::string> dns;
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_opt;
  uint64_t egress_bytes_per_sec = 0;

  ReplicaSpec() = default;
  // Cut from its service (the one place a compose::Service becomes what a
  // node receives; explicit so that no other conversion happens unseen).
  explicit ReplicaSpec(const compose::Service& service);
};

// Every field, defaults included (keys sorted).
nlohmann::json to_json_value(const ReplicaSpec& spec);
// Without the fields at their default value, nested mounts, devices and
// ulimits included.
nlohmann::json canonical_json(const ReplicaSpec& spec);
// `value` without the keys whose value equals the one in `defaults`
// (recursing into objects present in both). The rule that makes a new
// default-valued field invisible.
nlohmann::json without_defaults(const nlohmann::json& value, const nlohmann::json& defaults);

}  // namespace stack::orch
