// Several stackd on one machine, each a node of its own: its own network
// namespace (`ip netns`, with lo and eth0 at 10.77.0.<n>/24), its own root,
// socket, runtime and netns directories, all joined by a bridge that stands
// for the physical network, in the test thread's private namespace
// (private_netns.h). The tests drive each node with the `stack` CLI on its
// socket. Everything goes with the harness: daemons (SIGTERM, then SIGKILL),
// namespaces (their veths with them) and directories.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/bundle.h"
#include "tests/support/private_netns.h"

namespace stack::test {

class ClusterHarness {
 public:
  // "" when it can run, else why not (root, ip, etcd).
  static std::string skip_reason();

  explicit ClusterHarness(int nodes);
  ~ClusterHarness();
  ClusterHarness(const ClusterHarness&) = delete;
  ClusterHarness& operator=(const ClusterHarness&) = delete;

  // "" or what went wrong setting up the network.
  const std::string& error() const { return error_; }
  int size() const { return static_cast<int>(nodes_.size()); }

  std::string address(int n) const;  // 10.77.0.<n+1>
  std::string root(int n) const;
  // Starts node n's stackd (waiting until it answers); "" or the reason.
  std::string start(int n);
  void stop(int n, int sig = 15);
  // Cuts node n off the test network (its eth0 down: its stackd and
  // containers keep running, unreachable), or joins it again; "" or why not.
  std::string partition(int n, bool cut);
  bool running(int n) const;
  // `stack --host <node n's socket> args...`; under timeout(1) when
  // timeout_s > 0 (for verbs that follow, as `events`).
  CmdResult stack(int n, const std::vector<std::string>& args, int timeout_s = 0);
  // The `stack --host <node n's socket>` that stack() runs, for a command
  // run another way (under script(1), for a terminal).
  std::vector<std::string> stack_argv(int n) const;
  std::string log(int n) const;
  // Ids of the containers node n's runtime holds (its runtime root), sorted.
  std::vector<std::string> containers(int n) const;

 private:
  struct Node {
    std::string netns;  // ip netns name
    std::string dir;    // root, socket and log live here
    std::string run;    // /run/...: runtime and netns dirs
    pid_t pid = -1;
  };
  std::string sh(const std::string& command);

  PrivateNetns physical_;
  TempDir dir_{"cluster"};
  std::string bridge_;
  std::vector<Node> nodes_;
  std::string error_;
};

}  // namespace stack::test
