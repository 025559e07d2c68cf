// blockIO, hugepageLimits, network and kernel memory from config.json to
// cgroup file contents, without a kernel: parsing (the JSON runc, podman and
// containerd write), the v2 conversions, and the v1/v2 writers pointed at a
// directory of plain files standing in for a cgroup.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/container/default_spec.h"
#include "runtime/oci/spec.h"
#include "runtime/kernel/cgroup_blkio.h"
#include "runtime/kernel/cgroup_hugetlb.h"
#include "runtime/kernel/cgroup_v2.h"
#include "runtime/kernel/lsm.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace stack::rt;

namespace {

// The resources part of a config as containerd's WithResources / podman
// write it for --blkio-weight, --blkio-weight-device, --device-read-bps,
// --device-write-iops, hugetlb limits, a net_cls class, --kernel-memory.
const char* kResources = R"({
  "devices": [{"allow": false, "access": "rwm"}],
  "memory": {"limit": 268435456, "kernel": 134217728, "kernelTCP": 67108864},
  "blockIO": {
    "weight": 500,
    "leafWeight": 300,
    "weightDevice": [{"major": 8, "minor": 0, "weight": 600}, {"major": 8, "minor": 16, "leafWeight": 200}],
    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
    "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 0}],
    "throttleReadIOPSDevice": [{"major": 8, "minor": 16, "rate": 1000}],
    "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}]
  },
  "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}, {"pageSize": "1GB", "limit": 0}],
  "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}, {"name": "lo", "priority": 1}]}
})";

Resources parse(const std::string& resources) {
  json j = spec_to_json(default_spec());
  j["linux"]["resources"] = json::parse(resources);
  auto s = parse_spec(j);
  EXPECT_TRUE(s) << s.error().message();
  return s ? *s->linux.resources : Resources{};
}

std::string error_of(const std::string& resources) {
  json j = spec_to_json(default_spec());
  j["linux"]["resources"] = json::parse(resources);
  auto s = parse_spec(j, "config.json");
  EXPECT_FALSE(s) << "accepted: " << resources;
  return s ? "" : s.error().message();
}

// A directory of empty files named like cgroup files. Every write replaces
// the content (O_TRUNC is not used by the writers, so files start empty and
// each test writes one value per file or checks the last).
class FakeCgroup {
 public:
  FakeCgroup() {
    char t[] = "/tmp/stack-fakecg-XXXXXX";
    dir_ = ::mkdtemp(t);
  }
  ~FakeCgroup() { fs::remove_all(dir_); }
  void touch(const std::string& name) { std::ofstream(dir_ + "/" + name).flush(); }
  std::string read(const std::string& name) const {
    std::ifstream f(dir_ + "/" + name);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

TEST(CgroupLimits, RuntimeSpecResourcesParseAndRoundTrip) {
  Resources r = parse(kResources);
  ASSERT_TRUE(r.block_io);
  EXPECT_EQ(r.block_io->weight, 500);
  EXPECT_EQ(r.block_io->leaf_weight, 300);
  ASSERT_EQ(r.block_io->weight_device.size(), 2u);
  EXPECT_EQ(r.block_io->weight_device[0].weight, 600);
  EXPECT_FALSE(r.block_io->weight_device[0].leaf_weight);
  EXPECT_EQ(r.block_io->weight_device[1].minor, 16);
  EXPECT_EQ(r.block_io->weight_device[1].leaf_weight, 200);
  ASSERT_EQ(r.block_io->throttle_read_bps_device.size(), 1u);
  EXPECT_EQ(r.block_io->throttle_read_bps_device[0].rate, 1048576u);
  EXPECT_EQ(r.block_io->throttle_write_iops_device[0].rate, 300u);
  ASSERT_EQ(r.hugepage_limits.size(), 2u);
  EXPECT_EQ(r.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(r.hugepage_limits[0].limit, 4194304u);
  ASSERT_TRUE(r.network);
  EXPECT_EQ(r.network->class_id, 1048577u);
  ASSERT_EQ(r.network->priorities.size(), 2u);
  EXPECT_EQ(r.network->priorities[0].name, "eth0");
  EXPECT_EQ(r.network->priorities[0].priority, 5u);
  EXPECT_EQ(r.memory->kernel, 134217728);
  EXPECT_EQ(r.memory->kernel_tcp, 67108864);

  // `stack-runtime spec` and tests that edit a spec write them back.
  json j = spec_to_json(default_spec());
  j["linux"]["resources"] = json::parse(kResources);
  auto s = parse_spec(j);
  ASSERT_TRUE(s);
  EXPECT_EQ(spec_to_json(*s)["linux"]["resources"], json::parse(kResources));
}

TEST(CgroupLimits, BadValuesNameTheField) {
  EXPECT_NE(error_of(R"({"blockIO": {"weight": 70000}})").find("linux.resources.blockIO.weight: out of range"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "rate": 1}]}})")
                .find("linux.resources.blockIO.throttleReadBpsDevice[0].minor: is required"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"hugepageLimits": [{"limit": 1}]})").find("linux.resources.hugepageLimits[0].pageSize"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"network": {"priorities": [{"priority": 1}]}})")
                .find("linux.resources.network.priorities[0].name: is required"),
            std::string::npos);
}

TEST(CgroupLimits, BlkioWeightConvertsToIoWeightAsRuncDoes) {
  EXPECT_EQ(blkio_weight_to_io_weight(0), 0u);  // unset stays unset
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
  EXPECT_EQ(blkio_weight_to_io_weight(500), 1u + 490u * 9999u / 990u);
  EXPECT_EQ(blkio_weight_to_io_weight(100), 1u + 90u * 9999u / 990u);
  // Out of the blkio range: clamped, so io.weight gets a value it accepts.
  EXPECT_EQ(blkio_weight_to_io_weight(1), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(5000), 10000u);
}

TEST(CgroupLimits, HugepageSizesAreNamedAsTheHugetlbFiles) {
  EXPECT_EQ(hugepage_size_name(64), "64KB");
  EXPECT_EQ(hugepage_size_name(2048), "2MB");
  EXPECT_EQ(hugepage_size_name(32768), "32MB");
  EXPECT_EQ(hugepage_size_name(1048576), "1GB");
  EXPECT_EQ(hugepage_size_name(16 * 1048576), "16GB");
  EXPECT_EQ(hugepage_size_name(3072), "3MB");
  EXPECT_EQ(hugepage_size_name(1536), "1536KB");
  for (const auto& s : host_hugepage_sizes()) EXPECT_TRUE(s.ends_with("B")) << s;
}

TEST(CgroupLimits, V2IoWeightIsConvertedWithoutBfqAndRawWithIt) {
  BlockIoResources b;
  b.weight = 500;
  {
    FakeCgroup cg;
    cg.touch("io.weight");
    ASSERT_TRUE(set_io_v2(cg.dir(), b));
    EXPECT_EQ(cg.read("io.weight"), std::to_string(blkio_weight_to_io_weight(500)));
  }
  {
    FakeCgroup cg;
    cg.touch("io.weight");
    cg.touch("io.bfq.weight");
    ASSERT_TRUE(set_io_v2(cg.dir(), b));
    EXPECT_EQ(cg.read("io.bfq.weight"), "500");
    EXPECT_EQ(cg.read("io.weight"), "");
  }
  {
    FakeCgroup cg;
    BlockIoResources d;
    d.weight_device = {WeightDevice{8, 16, 1000, std::nullopt}};
    cg.touch("io.weight");
    ASSERT_TRUE(set_io_v2(cg.dir(), d));
    EXPECT_EQ(cg.read("io.weight"), "8:16 10000");
  }
  {
    FakeCgroup cg;  // neither file: refused by name, not ignored
    auto r = set_io_v2(cg.dir(), b);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("linux.resources.blockIO.weight: neither io.bfq.weight"), std::string::npos)
        << r.error().message();
  }
}

TEST(CgroupLimits, V2IoMaxLinesAndNoLeafWeights) {
  FakeCgroup cg;
  cg.touch("io.max");
  BlockIoResources b;
  b.throttle_write_iops_device = {ThrottleDevice{253, 0, 300}};
  ASSERT_TRUE(set_io_v2(cg.dir(), b));
  EXPECT_EQ(cg.read("io.max"), "253:0 wiops=300");
  b.throttle_write_iops_device = {ThrottleDevice{253, 0, 0}};  // v1's "no limit"
  ASSERT_TRUE(set_io_v2(cg.dir(), b));
  EXPECT_EQ(cg.read("io.max"), "253:0 wiops=max");

  BlockIoResources leaf;
  leaf.leaf_weight = 300;
  auto r = set_io_v2(cg.dir(), leaf);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weights"),
            std::string::npos);
}

TEST(CgroupLimits, V1BlkioWritesWhatTheHostHasAndRefusesTheRest) {
  FakeCgroup cg;
  cg.touch("blkio.throttle.read_bps_device");
  BlockIoResources b;
  b.throttle_read_bps_device = {ThrottleDevice{8, 0, 1048576}};
  ASSERT_TRUE(set_blkio_v1(cg.dir(), b));
  EXPECT_EQ(cg.read("blkio.throttle.read_bps_device"), "8:0 1048576");

  b.weight = 500;  // no blkio.weight / blkio.bfq.weight: mq-deadline or none
  auto r = set_blkio_v1(cg.dir(), b);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("linux.resources.blockIO.weight: the host's blkio controller has no weight file"),
            std::string::npos)
      << r.error().message();
  cg.touch("blkio.bfq.weight");
  cg.touch("blkio.bfq.weight_device");
  b.weight_device = {WeightDevice{8, 0, 600, std::nullopt}};
  ASSERT_TRUE(set_blkio_v1(cg.dir(), b));
  EXPECT_EQ(cg.read("blkio.bfq.weight"), "500");
  EXPECT_EQ(cg.read("blkio.bfq.weight_device"), "8:0 600");

  BlockIoResources wiops;
  wiops.throttle_write_iops_device = {ThrottleDevice{8, 0, 1}};
  r = set_blkio_v1(cg.dir(), wiops);  // no throttle file: CONFIG_BLK_DEV_THROTTLING off
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("linux.resources.blockIO.throttleWriteIOPSDevice[0]: no "
                                     "blkio.throttle.write_iops_device"),
            std::string::npos);
}

TEST(CgroupLimits, HugetlbFilesPerVersionAndUnknownSizesRefused) {
  const auto sizes = host_hugepage_sizes();
  if (sizes.empty()) GTEST_SKIP() << "kernel without huge pages";
  FakeCgroup v1, v2;
  const std::string size = sizes.front();
  for (auto n : {"limit_in_bytes", "rsvd.limit_in_bytes"}) v1.touch("hugetlb." + size + "." + n);
  v2.touch("hugetlb." + size + ".max");  // no rsvd file: skipped, as on kernels before 5.7
  std::vector<HugepageLimit> limits = {{size, 1ull << 30}};
  ASSERT_TRUE(set_hugetlb_v1(v1.dir(), limits));
  EXPECT_EQ(v1.read("hugetlb." + size + ".limit_in_bytes"), "1073741824");
  EXPECT_EQ(v1.read("hugetlb." + size + ".rsvd.limit_in_bytes"), "1073741824");
  ASSERT_TRUE(set_hugetlb_v2(v2.dir(), limits));
  EXPECT_EQ(v2.read("hugetlb." + size + ".max"), "1073741824");

  auto r = set_hugetlb_v2(v2.dir(), {{"2M", 1}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("linux.resources.hugepageLimits[0].pageSize \"2M\": not a huge page size"),
            std::string::npos)
      << r.error().message();
}

TEST(CgroupLimits, V2RefusesNetClsAndNetPrioBeforeMakingAnything) {
  char t[] = "/tmp/stack-fakecg2-XXXXXX";
  const std::string mount = ::mkdtemp(t);
  CgroupV2Manager m(mount, "/stack/x");
  Resources r;
  r.network = NetworkResources{1048577, {}};
  auto made = m.create(r);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message().find("linux.resources.network.classID: cgroup v2 has no net_cls or net_prio"),
            std::string::npos)
      << made.error().message();
  EXPECT_FALSE(fs::exists(mount + "/stack"));
  r.network = NetworkResources{std::nullopt, {{"lo", 1}}};
  made = m.create(r);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message().find("linux.resources.network.priorities"), std::string::npos);
  fs::remove_all(mount);
}

TEST(CgroupLimits, MountLabelBecomesAContextOption) {
  EXPECT_EQ(mount_data_with_label("mode=755,size=65536k", ""), "mode=755,size=65536k");
  EXPECT_EQ(mount_data_with_label("", "system_u:object_r:container_file_t:s0:c1,c2"),
            "context=\"system_u:object_r:container_file_t:s0:c1,c2\"");
  EXPECT_EQ(mount_data_with_label("mode=755", "l"), "mode=755,context=\"l\"");
}

}  // namespace
