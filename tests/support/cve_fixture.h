// Shared ground for the CVE regression tests of the container filesystem
// (tests/privileged/cve_*_test.cc, security issue 10). Each test first shows
// the attack working when the protection is taken away (the positive
// control: the naive operation a vulnerable runtime made, run in a scratch
// mount namespace), then failing against ours, through the rootfs harness
// (rootfs_harness.h) or the stack-runtime CLI.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tests/support/rootfs_harness.h"
#include "tests/support/runtime_fixture.h"

namespace stack::test {

// Runs `fn` in a forked child with a mount namespace of its own, every mount
// made a slave first so nothing it mounts reaches the host. Returns fn's
// result (the child's exit status; keep it below 128), or 128+signal.
int in_scratch_mount_ns(const std::function<int()>& fn);

// Whether `text` (a ChildError's message, a command's stderr) has `part`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// statfs's f_type of `path`, 0 when it cannot be reached.
long fs_type(const std::string& path);

}  // namespace stack::test

namespace stack::rt::rootfs_harness {

// RootfsTest (host mounts and /dev/null unchanged afterwards) plus the CLI:
// stack-runtime against a private root, with RuntimeTest's leak check.
class CveTest : public RootfsTest {
 protected:
  void TearDown() override {
    test::expect_no_leftovers(rt_root_.path(), ids_);
    RootfsTest::TearDown();
  }
  // `stack-runtime run --bundle B ID` of `args` (the container is deleted when
  // it exits, or never created).
  test::CmdResult runtime_run(test::Bundle& b, const std::vector<std::string>& args) {
    b.set_args(args);
    ids_.push_back(test::unique_id("cve"));
    return test::run_runtime(rt_root_.path(), {"run", "--bundle", b.dir(), ids_.back()});
  }
  // The bundle's spec with `edit` applied.
  Spec spec_of(const test::Bundle& b, const std::function<void(Spec&)>& edit = {}) {
    Spec s = default_spec_of(b);
    if (edit) edit(s);
    return s;
  }

  test::TempDir rt_root_{"stack-rt-root"};
  std::vector<std::string> ids_;
};

}  // namespace stack::rt::rootfs_harness
