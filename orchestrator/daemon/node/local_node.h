// LocalNode: the hands of the engine on this host (the part a cluster agent
// will run on every node). It turns a ReplicaPlan (the replica's spec, cut
// from its service, + its identity + its network attachments) into a running container
// held by a stack-shim, and back again; it probes, execs, reads logs and
// stats. It makes no decisions: the engine (engine.h) decides when.
//
// Per replica it owns, under EngineOptions.root/containers/<id>/: the bundle
// (config.json), the overlay rootfs (upper/work dirs, mounted at rootfs/),
// hosts/resolv.conf/hostname files; the netns at <netns_dir>/<id>; the veth
// endpoints (through NetworkManager); the runtime state dir under
// runtime_root/<id> (owned by the shim while it lives). remove() releases all
// of it and is idempotent; a failing create_and_start() leaves none of it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netplane/network_manager.h"
#include "orchestrator/compose/file_objects.h"
#include "orchestrator/compose/model.h"
#include "orchestrator/compose/task_spec.h"
#include "orchestrator/api/types.h"
#include "orchestrator/daemon/node/daemon_options.h"
#include "orchestrator/daemon/node/exec_session.h"
#include "orchestrator/daemon/node/replica_spec.h"
#include "base/error.h"
#include "scheduler/model.h"
#include "scheduler/placement.h"

namespace stack::img { class ImageService; }

namespace stack::orch {

struct NetworkAttachment {
  net::NetworkInfo network;          // already created by the engine
  std::vector<std::string> aliases;  // for /etc/hosts
  std::string ipv4_address;          // static, "" = pool
  std::string mac_address;           // fixed, "" = the kernel's
};

// What a ReplicaPlan is cut from (make_plan() in engine/supervisor.h): a
// cluster node makes the plan itself from these (daemon/cluster/assignment.h),
// with its own directories.
struct PlanSource {
  compose::Project project;
  std::map<std::string, net::NetworkInfo> networks;  // compose key -> network, as the engine made it
};

struct ReplicaPlan {
  std::string id;       // container id: <stack>-<service>-<slot>-<6 hex> (unique per incarnation)
  std::string name;     // <stack>-<service>-<slot> (or container_name)
  std::string stack;
  int slot = 1;
  ReplicaSpec service;                // what of the service the container is made from
  std::string project_dir;            // compose working_dir: relative bind sources resolve here
  std::map<std::string, std::string> volume_dirs;  // compose volume key -> host dir (engine made it)
  // Where this slot's anonymous volumes live (anonymous_volume_dir): a
  // service's `- /data` and the image's VOLUMEs. Kept across incarnations
  // of the slot, as Compose keeps them; `down -v` removes them.
  std::string anonymous_dir;
  std::vector<NetworkAttachment> networks;  // first one gets eth0 + the default route
  std::string dns_server;             // resolv.conf nameserver ("" = host's resolv.conf)
  std::map<std::string, std::string> labels;  // com.stack.* labels into the spec annotations
  std::string service_key;            // the compose service it is a replica of
  std::vector<compose::ResolvedFile> files;  // secrets and configs, with their bytes
  std::shared_ptr<const PlanSource> source;  // set by the supervisor; shared by its plans
  // `run -i`/`-t`: stackd attaches right after the start, so the shim keeps
  // the output for that first attach (--hold-output) and, as Docker's
  // stdin_once, closes the stdin pipe at its client's EOF (--stdin-once).
  bool oneoff_attach = false;
};

struct ReplicaRuntime {
  std::string id;
  int pid = 0;        // container init pid on the host
  int shim_pid = 0;
  int64_t started_at_ms = 0;
  std::map<std::string, std::string> addresses;  // network -> ipv4
  std::string netns_path;   // "" with network_mode host
  bool running = true;      // reattach(): false when it had exited (exit.json); pid is then 0
  std::vector<std::string> warnings;  // create_and_start(): what the spec could not honour
};

// <volume_root>/.anonymous/<stack>: every anonymous volume of a stack.
std::string anonymous_volumes_root(const std::string& volume_root, const std::string& stack);
// One slot's: <root of the stack>/<service>-<slot> (ReplicaPlan::anonymous_dir).
std::string anonymous_slot_dir(const std::string& volume_root, const std::string& stack, const std::string& service,
                               int slot);
// The volume at `target` in a slot's dir: "/var/lib/data" -> "var-lib-data-<8 hex>"
// (readable, and unique per target).
std::string anonymous_volume_dir(const std::string& slot_dir, const std::string& target);

// The id of the node stackd runs on (a replica's status.node, `stack ps`'s
// NODE column).
inline constexpr const char* kLocalNodeId = "local";

struct ExitInfo {
  int exit_code = 0;
  bool oom_killed = false;
  int64_t finished_at_ms = 0;
};

class LocalNode {
 public:
  static stack::Result<std::unique_ptr<LocalNode>> open(const EngineOptions& options,
                                                     net::NetworkManager& networks);
  virtual ~LocalNode() = default;

  // Pulls as `rule` says (compose/task_spec.h): when missing, always, never
  // (missing is ENOENT), or when the name was set longer ago than
  // refresh_after; `progress` gets one-line updates ("pulling layer 2/5
  // ..."). Layers are unpacked by the first create that needs them, so a
  // manager that places replicas elsewhere never unpacks.
  virtual stack::Result<void> ensure_image(const std::string& ref, const compose::PullRule& rule,
                                        const std::function<void(const std::string&)>& progress) = 0;

  // Image defaults (entrypoint/cmd/env/user/workdir/healthcheck/exposed ports)
  // merged by the spec builder; exposed for the engine's health spec.
  virtual stack::Result<compose::Healthcheck> image_healthcheck(const std::string& ref) = 0;

  // netns, endpoints, rootfs, /etc files, config.json, shim --detach, started.
  virtual stack::Result<ReplicaRuntime> create_and_start(const ReplicaPlan& plan) = 0;
  // Whether many create_and_start calls may run at once and gain from it
  // (another node's, which each wait for that node's report); a node's
  // own creates go one at a time.
  virtual bool concurrent_creates() const { return false; }

  // Calls `on_exit` (from a node thread) once the container's init exits
  // (pidfd); at once if it already has. The record comes from exit.json.
  virtual stack::Result<void> watch(const std::string& id, std::function<void(const ExitInfo&)> on_exit) = 0;

  virtual stack::Result<void> signal(const std::string& id, int signal) = 0;

  // Deletes the container (SIGKILL first if running) and everything the
  // replica owns. Idempotent; batched network teardown for many ids. The
  // ids' watches are cancelled first: no on_exit fires for a removed one.
  virtual stack::Result<void> remove(const std::vector<std::string>& ids) = 0;

  // After a daemon restart: the replica's facts if its shim still holds it
  // (running, or exited with exit.json), std::nullopt when nothing is left.
  virtual stack::Result<std::optional<ReplicaRuntime>> reattach(const std::string& id) = 0;
  // Ids of containers this node has on disk (for sweeping unknown ones).
  virtual std::vector<std::string> list_ids() = 0;

  // One health probe with its timeout enforced; exit_code 0 = healthy.
  virtual sched::ProbeResult probe(const std::string& id, const sched::HealthSpec& spec,
                                   const std::string& address) = 0;

  virtual stack::Result<std::unique_ptr<ExecSession>> exec(const std::string& id, const ExecRequest& request) = 0;
  // `stack attach`: the main process's stream through its shim's
  // attach.sock (node/attach_session.h), relayed by relay_client().
  // `forward_exit` false: the shim's exit frame is dropped, for a caller that
  // sends its own once done (`run --rm` removes the one-off first). The
  // default refuses: a cluster's other nodes do not relay it yet.
  virtual stack::Result<std::unique_ptr<ExecSession>> attach(const std::string& id, bool forward_exit);

  // json-file log of the replica (rotated files oldest first).
  virtual std::vector<std::string> log_files(const std::string& id) = 0;
  // The complete lines of `file` (one of log_files(id)) from `offset` on,
  // `offset` moved past them (log_chunk.h). The default reads this host's
  // file; a cluster's RemoteNode asks the node that runs the replica.
  virtual std::vector<std::string> read_log(const std::string& id, const std::string& file, uint64_t& offset);

  // `stack top` / `stack stats` for one replica (JSON text).
  virtual stack::Result<std::string> top(const std::string& id) = 0;
  virtual stack::Result<std::string> stats(const std::string& id) = 0;

  // The node as placement sees it (scheduler/placement.h): capacity and
  // labels. The default (local_node.cc, host_facts.h) describes this host as node "local":
  // the CPUs it may use, its memory, its NVIDIA GPUs (/dev/nvidiaN).
  virtual sched::NodeInfo describe();
};

}  // namespace stack::orch
