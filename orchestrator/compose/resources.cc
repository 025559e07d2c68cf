#include "orchestrator/compose/resources.h"

#include <sstream>

#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/normalize.h"

namespace stack::compose {

namespace {

stack::Result<int64_t> read_int_in(const Node& v, const std::string& path, int64_t lo, int64_t hi) {
  int64_t x = 0;
  STACK_COMPOSE_ASSIGN(x, read_int(v, path));
  if (x < lo || x > hi)
    return fail_at(v.mark, path, "must be " + std::to_string(lo) + ".." + std::to_string(hi) + " (got " + v.scalar + ")");
  return x;
}

// [{path: /dev/sda, weight|rate: N}]: rates as sizes (bps) or counts.
enum class RateKind { Weight, Bytes, Count };

stack::Result<std::vector<BlkioDeviceRate>> read_device_rates(const Node& v, const std::string& path, RateKind kind) {
  std::vector<BlkioDeviceRate> out;
  for (size_t i = 0; i < v.items.size(); ++i) {
    const Node& e = v.items[i];
    const std::string p = item_path(path, i);
    BlkioDeviceRate d;
    if (const Node* x = e.find("path")) STACK_COMPOSE_ASSIGN(d.path, read_string(*x, p + ".path"));
    if (d.path.empty() || d.path[0] != '/') return fail_at(e.mark, p + ".path", "a host device path is required");
    const char* key = kind == RateKind::Weight ? "weight" : "rate";
    const Node* r = e.find(key);
    if (!r) return fail_at(e.mark, p, std::string("`") + key + "` is required");
    const std::string rp = p + "." + key;
    if (kind == RateKind::Weight) {
      STACK_COMPOSE_ASSIGN(d.rate, read_int_in(*r, rp, 10, 1000));
    } else if (kind == RateKind::Bytes) {
      STACK_COMPOSE_ASSIGN(d.rate, read_size(*r, rp));
    } else {
      STACK_COMPOSE_ASSIGN(d.rate, read_int_in(*r, rp, 0, INT64_MAX));
    }
    out.push_back(std::move(d));
  }
  return out;
}

stack::Result<BlkioConfig> read_blkio(const Node& v, const std::string& path) {
  BlkioConfig b;
  for (const auto& e : v.entries) {
    const std::string p = join_path(path, e.key);
    if (e.key == "weight") {
      int64_t w = 0;
      STACK_COMPOSE_ASSIGN(w, read_int_in(e.value, p, 10, 1000));
      b.weight = static_cast<uint16_t>(w);
    } else if (e.key == "weight_device") {
      STACK_COMPOSE_ASSIGN(b.weight_device, read_device_rates(e.value, p, RateKind::Weight));
    } else if (e.key == "device_read_bps") {
      STACK_COMPOSE_ASSIGN(b.device_read_bps, read_device_rates(e.value, p, RateKind::Bytes));
    } else if (e.key == "device_write_bps") {
      STACK_COMPOSE_ASSIGN(b.device_write_bps, read_device_rates(e.value, p, RateKind::Bytes));
    } else if (e.key == "device_read_iops") {
      STACK_COMPOSE_ASSIGN(b.device_read_iops, read_device_rates(e.value, p, RateKind::Count));
    } else if (e.key == "device_write_iops") {
      STACK_COMPOSE_ASSIGN(b.device_write_iops, read_device_rates(e.value, p, RateKind::Count));
    }
  }
  return b;
}

}  // namespace

std::optional<DeviceRuleText> parse_device_cgroup_rule(const std::string& text) {
  std::istringstream in(text);
  std::string type, numbers, access, extra;
  if (!(in >> type >> numbers >> access) || (in >> extra)) return std::nullopt;
  DeviceRuleText r;
  if (type != "a" && type != "b" && type != "c") return std::nullopt;
  r.type = type[0];
  auto colon = numbers.find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto number = [](const std::string& s, std::optional<int64_t>& out) {
    if (s == "*") return true;
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    out = std::stoll(s);
    return true;
  };
  if (!number(numbers.substr(0, colon), r.major) || !number(numbers.substr(colon + 1), r.minor)) return std::nullopt;
  if (access.empty() || access.size() > 3 || access.find_first_not_of("rwm") != std::string::npos) return std::nullopt;
  r.access = access;
  return r;
}

stack::Result<bool> read_tuning_field(const std::string& k, const Node& v, const std::string& p, ResourceTuning& t) {
  if (k == "mem_reservation") {
    STACK_TRY(store(t.mem_reservation, read_size(v, p)));
  } else if (k == "memswap_limit") {
    // -1: swap without limit (Docker's and Compose's spelling).
    if (auto x = scalar_int(v); x && *x == -1) t.memswap_limit = -1;
    else STACK_TRY(store(t.memswap_limit, read_size(v, p)));
  } else if (k == "mem_swappiness") {
    STACK_TRY(store(t.mem_swappiness, read_int_in(v, p, 0, 100)));
  } else if (k == "oom_kill_disable") {
    STACK_COMPOSE_ASSIGN(t.oom_kill_disable, read_bool(v, p));
  } else if (k == "cpu_period") {
    STACK_TRY(store(t.cpu_period, read_int_in(v, p, 1000, 1000000)));  // the kernel's CFS range: 1 ms .. 1 s
  } else if (k == "cpu_quota") {
    STACK_TRY(store(t.cpu_quota, read_int_in(v, p, 1000, INT64_MAX / 1000)));  // at least 1 ms, as Docker says
  } else if (k == "cgroup_parent") {
    std::string parent;
    STACK_COMPOSE_ASSIGN(parent, read_string(v, p));
    std::string clean;
    for (size_t i = 0, j; i <= parent.size(); i = j + 1) {
      j = parent.find('/', i);
      if (j == std::string::npos) j = parent.size();
      const std::string part = parent.substr(i, j - i);
      if (part.empty()) continue;
      if (part == "." || part == ".." || part.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos)
        return fail_at(v.mark, p, "\"" + parent + "\" is not a cgroup path (names of [A-Za-z0-9._-] joined by /)");
      clean += "/" + part;
    }
    if (clean.empty()) return fail_at(v.mark, p, "the root cgroup is shared by every process: name one below it");
    t.cgroup_parent = clean;
  } else if (k == "cpu_rt_runtime" || k == "cpu_rt_period") {
    // Microseconds, or a duration ("950ms") as Compose writes it.
    int64_t us = 0;
    if (auto x = scalar_int(v)) {
      us = *x;
    } else {
      Millis ms = 0;
      STACK_COMPOSE_ASSIGN(ms, read_duration(v, p));
      us = ms * 1000;
    }
    const int64_t lo = k == "cpu_rt_period" ? 1 : 0;
    if (us < lo || us > 1000000)
      return fail_at(v.mark, p, "must be " + std::to_string(lo) + "..1000000 microseconds (got " + v.scalar + ")");
    (k == "cpu_rt_runtime" ? t.cpu_rt_runtime : t.cpu_rt_period) = us;
  } else if (k == "blkio_config") {
    BlkioConfig b;
    STACK_COMPOSE_ASSIGN(b, read_blkio(v, p));
    t.blkio = std::move(b);
  } else if (k == "device_cgroup_rules") {
    STACK_COMPOSE_ASSIGN(t.device_cgroup_rules, read_string_list(v, p));
    for (size_t i = 0; i < t.device_cgroup_rules.size(); ++i)
      if (!parse_device_cgroup_rule(t.device_cgroup_rules[i]))
        return fail_at(v.is_seq() && i < v.items.size() ? v.items[i].mark : v.mark, item_path(p, i),
                       "invalid rule \"" + t.device_cgroup_rules[i] +
                           "\": expected TYPE MAJOR:MINOR ACCESS, e.g. \"c 1:3 mr\" (TYPE a, b or c; * for any number)");
  } else {
    return false;
  }
  return true;
}

stack::Result<void> check_tuning(const Node& n, const std::string& base, const Service& s) {
  const ResourceTuning& t = s.tuning;
  auto at = [&](const char* key) {
    const Node* v = n.find(key);
    return v ? v->mark : n.mark;
  };
  const std::string P = base + ".";
  if (t.memswap_limit && *t.memswap_limit != -1) {
    if (!s.mem_limit)
      return fail_at(at("memswap_limit"), P + "memswap_limit", "needs mem_limit too (it is memory plus swap)");
    if (static_cast<uint64_t>(*t.memswap_limit) < *s.mem_limit)
      return fail_at(at("memswap_limit"), P + "memswap_limit", "must be at least mem_limit (it is memory plus swap)");
  }
  if (t.memswap_limit && *t.memswap_limit == -1 && !s.mem_limit)
    return fail_at(at("memswap_limit"), P + "memswap_limit", "needs mem_limit too (it is memory plus swap)");
  if (t.mem_reservation && s.mem_limit && *t.mem_reservation > *s.mem_limit)
    return fail_at(at("mem_reservation"), P + "mem_reservation", "must not be above mem_limit");
  if (s.cpus && *s.cpus > 0 && (t.cpu_period || t.cpu_quota)) {
    const char* key = t.cpu_period ? "cpu_period" : "cpu_quota";
    return fail_at(at(key), P + key, "cannot be combined with cpus (Docker refuses both: cpus sets the period and quota)");
  }
  if (t.cpu_rt_runtime && *t.cpu_rt_runtime > t.cpu_rt_period.value_or(1000000))
    return fail_at(at("cpu_rt_runtime"), P + "cpu_rt_runtime",
                   "must not be above cpu_rt_period (" + std::to_string(t.cpu_rt_period.value_or(1000000)) + " us)");
  return {};
}

}  // namespace stack::compose
