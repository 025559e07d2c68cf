// Puts the calling thread (and every thread and child it starts afterwards)
// into a fresh network namespace with lo up, and back on destruction.
//
// Why: stackd and the Engine own the host's netplane state (sweep() removes
// every tagged link and rule it does not know). Two daemons in one netns
// would sweep each other's networks, so every test that runs an Engine or a
// stackd gets a "host" of its own; ctest -j then runs them side by side.
// Only the network is private: files, mounts and processes are shared.
#pragma once

#include "base/fd.h"

namespace stack::test {

class PrivateNetns {
 public:
  PrivateNetns();  // aborts the test (ADD_FAILURE + ok() false) when it cannot
  ~PrivateNetns();
  PrivateNetns(const PrivateNetns&) = delete;
  PrivateNetns& operator=(const PrivateNetns&) = delete;
  bool ok() const { return ok_; }

 private:
  stack::UniqueFd original_;
  bool ok_ = false;
};

}  // namespace stack::test
