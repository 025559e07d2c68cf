// Settings stack-runtime used to accept and drop (issue 12, item 5): block
// I/O weights and throttles, huge page limits, net_cls/net_prio, kernel
// memory limits, AppArmor and SELinux labels. Each either reaches the
// container's cgroup (read back from the host after `create`) or makes
// `create` fail naming the field; kernel memory is ignored with a warning.
// The configs are written the way runc spec / podman / containerd write them.
// Which branch runs depends on the host (what it mounts, which LSM it has);
// on the hybrid CI host: blkio throttles applied, blkio weights refused (no
// CFQ/BFQ), hugetlb and net_cls/net_prio refused (not mounted) and applied in
// a private mount namespace that mounts them, AppArmor/SELinux refused.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/kernel/cgroup.h"
#include "runtime/kernel/cgroup_rt.h"
#include "runtime/kernel/lsm.h"
#include "tests/support/runtime_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;
using stack::test::Bundle;
using stack::test::CmdResult;
using stack::test::read_file;

namespace {

// The whole disk under "/" ("254:0"), never a partition (blkio throttles
// only take whole disks); only its cgroup files are written, never the disk.
std::string root_disk() {
  std::ifstream mi("/proc/self/mountinfo");
  std::string dev;
  for (std::string line; std::getline(mi, line);) {
    std::istringstream f(line);
    std::string id, parent, majmin, root, mp;
    if (f >> id >> parent >> majmin >> root >> mp && mp == "/") dev = majmin;
  }
  std::error_code ec;
  const fs::path sys = "/sys/dev/block/" + dev;
  if (!dev.empty() && fs::exists(sys, ec)) {
    if (!fs::exists(sys / "partition", ec)) return dev;
    auto parent = fs::canonical(sys, ec).parent_path() / "dev";
    std::string whole = read_file(parent.string());
    while (!whole.empty() && whole.back() == '\n') whole.pop_back();
    if (!whole.empty()) return whole;
  }
  // "/" on an overlay or a virtual device: any disk of the host will do.
  for (auto& d : fs::directory_iterator("/sys/block", ec)) {
    std::string m = read_file((d.path() / "dev").string());
    while (!m.empty() && m.back() == '\n') m.pop_back();
    if (!m.empty()) return m;
  }
  return "";
}

std::string mounted_v1(const std::string& controller) {
  auto mounts = stack::rt::read_cgroup_mounts();
  if (!mounts) return "";
  for (auto& m : stack::rt::select_v1_hierarchies(*mounts))
    for (auto& c : m.controllers)
      if (c == controller) return m.mount_point;
  return "";
}

bool v2_host() { return stack::rt::detect_cgroup_layout() == stack::rt::CgroupLayout::V2; }

class ContainerResources : public stack::test::RuntimeTest {
 protected:
  // `create` of a bundle whose linux.resources is the given JSON (merged
  // over the default spec's, which keeps its device rules).
  CmdResult create_with(Bundle& b, const std::string& resources_json, std::string& id) {
    b.set_args({"sleep", "30"});
    b.config["linux"]["resources"].merge_patch(json::parse(resources_json));
    b.write_config();
    id = new_id();
    return rt({"create", "--bundle", b.dir(), id});
  }
  // The container's file in the hierarchy carrying `controller` (v1), or in
  // the unified one (v2).
  std::string cgroup_file(const std::string& controller, const std::string& id, const std::string& name) {
    if (v2_host()) return "/sys/fs/cgroup/stack/" + id + "/" + name;
    return mounted_v1(controller) + "/stack/" + id + "/" + name;
  }
  void expect_refused(const CmdResult& r, const std::string& id, const std::string& field,
                      const std::string& why) {
    EXPECT_NE(r.status, 0) << "create succeeded although the host cannot apply " << field;
    EXPECT_NE(r.err.find(field), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    // Nothing of the refused container is left (TearDown checks cgroups).
    EXPECT_NE(rt({"state", id}).status, 0);
  }
};

TEST_F(ContainerResources, BlockIoThrottlesReachTheCgroup) {
  STACK_REQUIRE_ROOT();
  const std::string disk = root_disk();
  if (disk.empty()) GTEST_SKIP() << "no block device on this host";
  if (!v2_host() && mounted_v1("blkio").empty()) GTEST_SKIP() << "no blkio hierarchy (the refusal is tested below)";
  const std::string major = disk.substr(0, disk.find(':')), minor = disk.substr(disk.find(':') + 1);
  // As podman writes --device-read-bps / --device-write-iops.
  Bundle b;
  std::string id;
  CmdResult r = create_with(b, R"({"blockIO": {
      "throttleReadBpsDevice": [{"major": )" + major + R"(, "minor": )" + minor + R"(, "rate": 1048576}],
      "throttleWriteIOPSDevice": [{"major": )" + major + R"(, "minor": )" + minor + R"(, "rate": 300}]}})",
                            id);
  ASSERT_EQ(r.status, 0) << r.err;
  if (v2_host()) {
    const std::string max = read_file(cgroup_file("io", id, "io.max"));
    EXPECT_NE(max.find(disk + " rbps=1048576"), std::string::npos) << max;
    EXPECT_NE(max.find("wiops=300"), std::string::npos) << max;
  } else {
    EXPECT_EQ(read_file(cgroup_file("blkio", id, "blkio.throttle.read_bps_device")), disk + " 1048576\n");
    EXPECT_EQ(read_file(cgroup_file("blkio", id, "blkio.throttle.write_iops_device")), disk + " 300\n");
  }
  EXPECT_EQ(rt({"delete", "--force", id}).status, 0);
}

TEST_F(ContainerResources, BlockIoWeightIsAppliedOrRefusedByName) {
  STACK_REQUIRE_ROOT();
  if (v2_host()) GTEST_SKIP() << "v2 weights are covered by the unit tests (io.weight conversion)";
  const std::string blkio = mounted_v1("blkio");
  if (blkio.empty()) GTEST_SKIP() << "no blkio hierarchy";
  Bundle b;
  std::string id;
  // docker run --blkio-weight 500, as containerd writes it.
  CmdResult r = create_with(b, R"({"blockIO": {"weight": 500}})", id);
  std::string file;
  for (const char* f : {"blkio.weight", "blkio.bfq.weight"})
    if (file.empty() && fs::exists(blkio + "/" + f)) file = f;
  if (file.empty()) {
    // mq-deadline / none: the kernel has no proportional weight to set.
    expect_refused(r, id, "linux.resources.blockIO.weight", "no weight file");
    return;
  }
  ASSERT_EQ(r.status, 0) << r.err;
  std::string got = read_file(cgroup_file("blkio", id, file));
  EXPECT_NE(got.find("500"), std::string::npos) << file << ": " << got;
  EXPECT_EQ(rt({"delete", "--force", id}).status, 0);
}

TEST_F(ContainerResources, HugepageLimitIsAppliedOrRefusedByName) {
  STACK_REQUIRE_ROOT();
  if (!fs::exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) GTEST_SKIP() << "no 2MB huge pages";
  Bundle b;
  std::string id;
  CmdResult r = create_with(b, R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]})", id);
  if (!v2_host() && mounted_v1("hugetlb").empty()) {
    expect_refused(r, id, "linux.resources.hugepageLimits", "no cgroup v1 \"hugetlb\" hierarchy is mounted");
    return;
  }
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string file = v2_host() ? "hugetlb.2MB.max" : "hugetlb.2MB.limit_in_bytes";
  EXPECT_EQ(read_file(cgroup_file("hugetlb", id, file)), "4194304\n");
  EXPECT_EQ(rt({"delete", "--force", id}).status, 0);
}

TEST_F(ContainerResources, UnknownHugepageSizeIsRefusedByName) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  std::string id;
  CmdResult r = create_with(b, R"({"hugepageLimits": [{"pageSize": "3MB", "limit": 6291456}]})", id);
  // Without a hugetlb hierarchy the controller is what is missing; with one,
  // the size.
  if (!v2_host() && mounted_v1("hugetlb").empty())
    expect_refused(r, id, "linux.resources.hugepageLimits", "hugetlb");
  else
    expect_refused(r, id, "linux.resources.hugepageLimits[0].pageSize", "not a huge page size of this host");
}

TEST_F(ContainerResources, NetClsAndNetPrioAreAppliedOrRefusedByName) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  std::string id;
  // classID 0x100001 (tc handle 10:1); "lo" exists in every network
  // namespace, the host's included (net_prio names interfaces there).
  CmdResult r = create_with(b, R"({"network": {"classID": 1048577, "priorities": [{"name": "lo", "priority": 5}]}})",
                            id);
  if (v2_host()) {
    expect_refused(r, id, "linux.resources.network.classID", "cgroup v2 has no net_cls");
    return;
  }
  if (mounted_v1("net_cls").empty()) {
    expect_refused(r, id, "linux.resources.network.classID", "no cgroup v1 \"net_cls\" hierarchy is mounted");
    return;
  }
  if (mounted_v1("net_prio").empty()) {
    expect_refused(r, id, "linux.resources.network.priorities[0]", "no cgroup v1 \"net_prio\" hierarchy");
    return;
  }
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(cgroup_file("net_cls", id, "net_cls.classid")), "1048577\n");
  EXPECT_NE(read_file(cgroup_file("net_prio", id, "net_prio.ifpriomap")).find("lo 5\n"), std::string::npos);
  EXPECT_EQ(rt({"delete", "--force", id}).status, 0);
}

// The v1 paths for controllers this host does not mount: mounted in a
// private mount namespace (a fresh hierarchy, gone with the namespace once
// empty), the runtime run inside it, the files read back there.
TEST_F(ContainerResources, HugetlbNetClsAndNetPrioAreWrittenWhereMounted) {
  STACK_REQUIRE_ROOT();
  if (v2_host()) GTEST_SKIP() << "v1 controllers cannot be mounted beside a v2-only host's";
  if (!mounted_v1("hugetlb").empty() || !mounted_v1("net_cls").empty())
    GTEST_SKIP() << "mounted on the host already: covered by the tests above";
  if (!fs::exists("/sys/kernel/mm/hugepages/hugepages-2048kB")) GTEST_SKIP() << "no 2MB huge pages";
  Bundle b;
  b.set_args({"sleep", "30"});
  b.config["linux"]["resources"].merge_patch(json::parse(R"({
      "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
      "network": {"classID": 1048577, "priorities": [{"name": "lo", "priority": 5}]}})"));
  b.write_config();
  const std::string id = new_id();
  stack::test::TempDir mnt("stack-cg-mnt");
  const std::string h = mnt.path() + "/hugetlb", n = mnt.path() + "/net";
  const std::string rt_cmd = stack::test::binary("stack-runtime") + " --root " + root_.path();
  // delete runs whatever happened, so no cgroup outlives the namespace.
  const std::string script = "set -u; mount --make-rprivate / && mkdir -p " + h + " " + n +
                             " && mount -t cgroup -o hugetlb stack-test " + h +
                             " && mount -t cgroup -o net_cls,net_prio stack-test " + n + " || exit 90\n" +
                             rt_cmd + " create --bundle " + b.dir() + " " + id + "; rc=$?\n" +
                             "if [ $rc = 0 ]; then cat " + h + "/stack/" + id + "/hugetlb.2MB.limit_in_bytes " + n +
                             "/stack/" + id + "/net_cls.classid; grep '^lo ' " + n + "/stack/" + id +
                             "/net_prio.ifpriomap; fi\n" + rt_cmd + " delete --force " + id + " >/dev/null 2>&1\n" +
                             "ls " + h + "/stack " + n + "/stack 2>/dev/null | grep -q " + id + " && echo LEAKED\n" +
                             "rmdir " + h + "/stack " + n + "/stack 2>/dev/null\n" +
                             "exit $rc\n";
  CmdResult r = stack::test::run({"unshare", "-m", "sh", "-c", script});
  ASSERT_NE(r.status, 90) << "could not mount the hierarchies: " << r.err;
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "4194304\n1048577\nlo 5\n");
}

TEST_F(ContainerResources, KernelMemoryLimitsAreIgnoredWithAWarning) {
  STACK_REQUIRE_ROOT();
  Bundle b;
  std::string id;
  // Old Docker (--kernel-memory) and containerd write these.
  CmdResult r = create_with(b, R"({"memory": {"limit": 268435456, "kernel": 134217728, "kernelTCP": 67108864}})", id);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("warning: linux.resources.memory.kernel:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("warning: linux.resources.memory.kernelTCP:"), std::string::npos) << r.err;
  EXPECT_EQ(rt({"delete", "--force", id}).status, 0);
}

TEST_F(ContainerResources, LsmLabelsNeedTheirLsm) {
  STACK_REQUIRE_ROOT();
  {
    Bundle b;
    b.set_args({"cat", "/proc/self/attr/current"});
    // What Docker and podman write on AppArmor hosts.
    b.config["process"]["apparmorProfile"] = stack::rt::apparmor_enabled() ? "unconfined" : "docker-default";
    b.write_config();
    const std::string id = new_id();
    CmdResult r = rt({"run", "--bundle", b.dir(), id});
    if (stack::rt::apparmor_enabled()) {
      EXPECT_EQ(r.status, 0) << r.err;
      EXPECT_NE(r.out.find("unconfined"), std::string::npos) << r.out;
    } else {
      expect_refused(r, id, "process.apparmorProfile",
                     "apparmor profile \"docker-default\" specified but AppArmor is disabled on the host");
    }
  }
  if (stack::rt::selinux_enabled()) GTEST_SKIP() << "SELinux enabled: labels need a policy with container types";
  {
    Bundle b;
    b.config["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0:c123,c456";
    b.write_config();
    const std::string id = new_id();
    CmdResult r = rt({"create", "--bundle", b.dir(), id});
    expect_refused(r, id, "process.selinuxLabel", "SELinux is disabled on the host");
  }
  {
    Bundle b;
    b.config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0:c123,c456";
    b.write_config();
    const std::string id = new_id();
    CmdResult r = rt({"create", "--bundle", b.dir(), id});
    expect_refused(r, id, "linux.mountLabel", "SELinux is disabled on the host");
  }
}

}  // namespace

// A real-time budget granted to the runtime's default parent (stackd's
// --cpu-rt-runtime) survives the delete of the last container there: another
// daemon's or test's delete must not take it from the next real-time replica.
TEST_F(ContainerResources, ARealTimeBudgetedDefaultParentOutlivesItsLastContainer) {
  STACK_REQUIRE_ROOT();
  if (v2_host()) GTEST_SKIP() << "real-time budgets are cgroup v1's only";
  const std::string cpu = mounted_v1("cpu");
  if (cpu.empty() || !fs::exists(cpu + "/cpu.rt_runtime_us")) GTEST_SKIP() << "no v1 real-time cpu controller";
  ASSERT_TRUE(stack::rt::set_cgroup_rt_runtime("/stack", 20000));
  Bundle b;
  std::string id;
  CmdResult r = create_with(b, R"({"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 1000000}})", id);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(cgroup_file("cpu", id, "cpu.rt_runtime_us")), "10000\n");
  EXPECT_EQ(rt({"delete", "--force", id}).status, 0);
  EXPECT_EQ(read_file(cpu + "/stack/cpu.rt_runtime_us"), "20000\n") << "the budget went with the parent";
  // Given back (other tests' containers may still live there: no rmdir check).
  auto back = stack::rt::set_cgroup_rt_runtime("/stack", 0);
  EXPECT_TRUE(back) << (back ? "" : back.error().message());
}
