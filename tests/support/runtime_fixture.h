// A private runtime root per test, the stack-runtime binary invoked against
// it, and a leak check: after the test no state dir, cgroup directory or
// container process may remain.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/bundle.h"

namespace stack::test {

// stack-runtime --root <root> ARGS..., for fixtures that cannot derive
// from RuntimeTest (the CVE tests mix it with the rootfs harness).
CmdResult run_runtime(const std::string& root, const std::vector<std::string>& args,
                      const std::string& input = "");
// RuntimeTest's leak check: no state dir under `root` and no cgroup
// directory for any of `ids` (a leftover is force-deleted and reported).
void expect_no_leftovers(const std::string& root, const std::vector<std::string>& ids);

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // stack-runtime --root <root> ARGS...
  CmdResult rt(const std::vector<std::string>& args, const std::string& input = "");
  // `run --bundle B ID` of `args` in the bundle, deleting afterwards.
  CmdResult run_in(Bundle& b, const std::vector<std::string>& args);
  // A fresh id remembered for the leak check.
  std::string new_id();

 public:
  // cgroup directories (any hierarchy) whose last component is `id`.
  static std::vector<std::string> cgroup_dirs_of(const std::string& id);

 protected:
  TempDir root_{"stack-rt-root"};
  std::vector<std::string> ids_;
};

}  // namespace stack::test
