// The API's data: what `stack ps`, `stack ls`, `stack events`, `stack logs`
// and `stack exec` exchange between the CLI and stackd (docs/api.md). Plain
// structs, no behaviour: the engine (daemon/engine/engine.h) produces and
// consumes them, api_json.h gives them their JSON form, and the CLI links
// this folder and nothing of the engine or the store.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stack::orch {

struct PortView {
  std::string host_ip;
  uint16_t published = 0;
  uint16_t target = 0;
  std::string protocol;
};

// One line of `stack ps` (and its JSON form).
struct ReplicaView {
  std::string stack, service, name;  // name: <stack>-<service>-<n> (or container_name)
  int replica = 1;
  std::string container_id;
  std::string image;
  std::string state;   // created | running | restarting | stopping | exited | pending
  std::string health;  // "" | starting | healthy | unhealthy
  int pid = 0;
  std::string ip;      // first network's address
  std::vector<PortView> ports;
  int restarts = 0;
  int exit_code = 0;
  std::string node = "local";
  std::string reason;  // pending: why it has no container ("no node satisfies: ...")
  int64_t created_at = 0, started_at = 0, finished_at = 0;  // ms since epoch
  std::vector<std::string> command;
};

struct StackView {
  std::string name;
  std::string goal;  // up | stopped
  int services = 0, replicas = 0, running = 0;
  std::vector<std::string> files;
};

struct Event {
  int64_t time_ms = 0;
  uint64_t seq = 0;
  std::string stack, service, replica;  // replica name; "" for stack-level events
  std::string type;    // create start die kill stop destroy restart health_status oom
                       // pull network-create network-remove scale up settled down error
                       // update rollback autoscale (attrs reason, from, replicas)
  std::map<std::string, std::string> attrs;  // exitCode, health, reason, image, ...
};

struct UpOptions {
  std::vector<std::string> services;  // empty = all
  bool wait = false;                  // --wait: until running and healthy
  int64_t wait_timeout_ms = 0;        // 0 = none
  bool pull_always = false;
};

struct LogOptions {
  std::vector<std::string> services;  // empty = all
  int64_t tail = -1;                  // -1 = all
  bool follow = false;
  bool timestamps = false;
  int64_t since_ms = 0;
};

struct LogLine {
  std::string service, replica;  // replica name
  std::string stream;            // stdout | stderr
  int64_t time_ns = 0;
  std::string text;              // without the trailing newline
};

struct ExecRequest {
  std::string stack, service;
  int index = 1;                  // replica slot
  std::vector<std::string> cmd;
  bool tty = false;
  bool interactive = false;
  std::vector<std::string> env;   // KEY=VALUE
  std::string user, workdir;
  bool detach = false;
};

}  // namespace stack::orch
