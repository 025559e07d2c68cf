#include "runtime/kernel/cgroup_blkio.h"

#include <algorithm>

#include "runtime/kernel/cgroup.h"

namespace stack::rt {

namespace {

constexpr const char* kField = "linux.resources.blockIO";

std::string field(const std::string& key) { return std::string(kField) + "." + key; }
std::string field(const std::string& key, size_t i) { return field(key) + "[" + std::to_string(i) + "]"; }

Result<> put(const std::string& file, const std::string& value, const std::string& what) {
  auto r = cgroupfs::write(file, value);
  if (!r) return tl::unexpected(r.error().wrap(what));
  return {};
}

bool set(const std::optional<uint16_t>& v) { return v && *v != 0; }

// The four throttle lists with their spec key, v1 file and v2 io.max key.
struct Throttle {
  const char* key;
  const char* v1_file;
  const char* v2_key;
  const std::vector<ThrottleDevice>* list;
};
std::vector<Throttle> throttles(const BlockIoResources& b) {
  return {{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps", &b.throttle_read_bps_device},
          {"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps", &b.throttle_write_bps_device},
          {"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops", &b.throttle_read_iops_device},
          {"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops", &b.throttle_write_iops_device}};
}

}  // namespace

bool block_io_requested(const BlockIoResources& b) {
  if (set(b.weight) || set(b.leaf_weight)) return true;
  for (const auto& d : b.weight_device)
    if (set(d.weight) || set(d.leaf_weight)) return true;
  for (const auto& t : throttles(b))
    if (!t.list->empty()) return true;
  return false;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + (weight - 10) * 9999 / 990;
}

std::string device_line(int64_t major, int64_t minor, const std::string& value) {
  return std::to_string(major) + ":" + std::to_string(minor) + " " + value;
}

Result<> set_blkio_v1(const std::string& dir, const BlockIoResources& b) {
  // Proportional weights belong to the I/O scheduler: CFQ (gone since Linux
  // 5.0) had blkio.weight, BFQ has blkio.bfq.weight; with mq-deadline or
  // none there is no weight to set, and saying so beats ignoring it.
  std::string weight_file, weight_device_file;
  if (cgroupfs::exists(dir + "/blkio.weight")) {
    weight_file = dir + "/blkio.weight";
    weight_device_file = dir + "/blkio.weight_device";
  } else if (cgroupfs::exists(dir + "/blkio.bfq.weight")) {
    weight_file = dir + "/blkio.bfq.weight";
    weight_device_file = dir + "/blkio.bfq.weight_device";
  }
  auto need_weight = [&](const std::string& what) -> Result<> {
    if (!weight_file.empty()) return {};
    return fail(what + ": the host's blkio controller has no weight file (blkio.weight needs the CFQ I/O "
                       "scheduler, blkio.bfq.weight the BFQ one)",
                EOPNOTSUPP);
  };
  auto need_leaf = [&](const std::string& what) -> Result<> {
    if (cgroupfs::exists(dir + "/blkio.leaf_weight")) return {};
    return fail(what + ": the host's blkio controller has no leaf weights (blkio.leaf_weight is CFQ's, removed in "
                       "Linux 5.0)",
                EOPNOTSUPP);
  };
  if (set(b.weight)) {
    STACK_TRY(need_weight(field("weight")));
    STACK_TRY(put(weight_file, std::to_string(*b.weight), field("weight")));
  }
  if (set(b.leaf_weight)) {
    STACK_TRY(need_leaf(field("leafWeight")));
    STACK_TRY(put(dir + "/blkio.leaf_weight", std::to_string(*b.leaf_weight), field("leafWeight")));
  }
  for (size_t i = 0; i < b.weight_device.size(); ++i) {
    const auto& d = b.weight_device[i];
    if (set(d.weight)) {
      STACK_TRY(need_weight(field("weightDevice", i) + ".weight"));
      STACK_TRY(put(weight_device_file, device_line(d.major, d.minor, std::to_string(*d.weight)),
                    field("weightDevice", i) + ".weight"));
    }
    if (set(d.leaf_weight)) {
      STACK_TRY(need_leaf(field("weightDevice", i) + ".leafWeight"));
      STACK_TRY(put(dir + "/blkio.leaf_weight_device", device_line(d.major, d.minor, std::to_string(*d.leaf_weight)),
                    field("weightDevice", i) + ".leafWeight"));
    }
  }
  // One write per device: the kernel parses one "major:minor rate" per
  // write; rate 0 removes that device's limit.
  for (const auto& t : throttles(b)) {
    for (size_t i = 0; i < t.list->size(); ++i) {
      const auto& d = (*t.list)[i];
      const std::string file = dir + "/" + t.v1_file;
      if (!cgroupfs::exists(file))
        return fail(field(t.key, i) + ": no " + t.v1_file + " (kernel built without CONFIG_BLK_DEV_THROTTLING)",
                    EOPNOTSUPP);
      STACK_TRY(put(file, device_line(d.major, d.minor, std::to_string(d.rate)), field(t.key, i)));
    }
  }
  return {};
}

Result<> set_io_v2(const std::string& dir, const BlockIoResources& b) {
  // v2 has no leaf weights (the cgroup's own tasks compete as one child).
  if (set(b.leaf_weight)) return fail(field("leafWeight") + ": cgroup v2 has no leaf weights", EOPNOTSUPP);
  for (size_t i = 0; i < b.weight_device.size(); ++i)
    if (set(b.weight_device[i].leaf_weight))
      return fail(field("weightDevice", i) + ".leafWeight: cgroup v2 has no leaf weights", EOPNOTSUPP);
  // BFQ takes the blkio range (1..1000) as is; otherwise io.weight (blk-iocost)
  // takes 1..10000, converted as runc does.
  const bool bfq = cgroupfs::exists(dir + "/io.bfq.weight");
  const std::string weight_file = dir + (bfq ? "/io.bfq.weight" : "/io.weight");
  auto weight = [&](uint16_t w) { return std::to_string(bfq ? w : blkio_weight_to_io_weight(w)); };
  auto need_weight = [&](const std::string& what) -> Result<> {
    if (bfq || cgroupfs::exists(weight_file)) return {};
    return fail(what + ": neither io.bfq.weight (BFQ I/O scheduler) nor io.weight (blk-iocost) exists in " + dir,
                EOPNOTSUPP);
  };
  if (set(b.weight)) {
    STACK_TRY(need_weight(field("weight")));
    STACK_TRY(put(weight_file, weight(*b.weight), field("weight")));
  }
  for (size_t i = 0; i < b.weight_device.size(); ++i) {
    const auto& d = b.weight_device[i];
    if (!set(d.weight)) continue;
    STACK_TRY(need_weight(field("weightDevice", i) + ".weight"));
    STACK_TRY(put(weight_file, device_line(d.major, d.minor, weight(*d.weight)), field("weightDevice", i) + ".weight"));
  }
  // io.max: "major:minor rbps=N"; v1's rate 0 (no limit) is "max" here.
  for (const auto& t : throttles(b)) {
    for (size_t i = 0; i < t.list->size(); ++i) {
      const auto& d = (*t.list)[i];
      const std::string value = std::string(t.v2_key) + "=" + (d.rate ? std::to_string(d.rate) : "max");
      STACK_TRY(put(dir + "/io.max", device_line(d.major, d.minor, value), field(t.key, i)));
    }
  }
  return {};
}

}  // namespace stack::rt
