#include "runtime/kernel/device_filter.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <tuple>

#include "base/fd.h"

namespace stack::rt {
namespace {

// The few instruction shapes the filter needs (the kernel's BPF_* insn
// macros are not part of the uapi headers).
bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn load_u32(uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
bpf_insn mov_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn mov_imm(uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) { return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm); }
bpf_insn jump_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// Registers after the prologue.
constexpr uint8_t kType = 2, kAccess = 3, kMajor = 4, kMinor = 5, kScratch = 1;

long bpf(int cmd, union bpf_attr* attr) { return ::syscall(SYS_bpf, cmd, attr, sizeof *attr); }

struct ParsedRule {
  bool allow;
  int type;     // BPF_DEVCG_DEV_*, 0 = any ("a")
  int access;   // BPF_DEVCG_ACC_* bits
  int64_t major, minor;  // -1 = any
};

Result<ParsedRule> parse_rule(const DeviceCgroupRule& r, size_t index) {
  const std::string where = "linux.resources.devices[" + std::to_string(index) + "]";
  ParsedRule p{r.allow, 0, 0, -1, -1};
  const std::string type = r.type.empty() ? "a" : r.type;
  if (type == "b") p.type = BPF_DEVCG_DEV_BLOCK;
  else if (type == "c") p.type = BPF_DEVCG_DEV_CHAR;
  else if (type != "a") return fail(where + ": type \"" + r.type + "\" (want a, b or c)", EINVAL);
  for (char c : r.access.empty() ? std::string("rwm") : r.access) {
    if (c == 'r') p.access |= BPF_DEVCG_ACC_READ;
    else if (c == 'w') p.access |= BPF_DEVCG_ACC_WRITE;
    else if (c == 'm') p.access |= BPF_DEVCG_ACC_MKNOD;
    else return fail(where + ": access \"" + r.access + "\" (want a subset of rwm)", EINVAL);
  }
  // "a" means every device whatever numbers follow (as on v1).
  if (p.type == 0) return p;
  for (auto [value, out, name] : {std::tuple{r.major, &p.major, "major"}, std::tuple{r.minor, &p.minor, "minor"}}) {
    if (!value || *value < 0) continue;
    if (*value > INT32_MAX) return fail(where + ": " + name + " " + std::to_string(*value) + " is out of range", EINVAL);
    *out = *value;
  }
  return p;
}

// One rule as a block that either returns its verdict or falls through to
// the next (earlier) rule.
std::vector<bpf_insn> rule_block(const ParsedRule& r) {
  std::vector<bpf_insn> b;
  std::vector<size_t> skips;  // jumps to patch to "after this block"
  auto skip_unless = [&](bpf_insn j) {
    skips.push_back(b.size());
    b.push_back(j);
  };
  if (r.type != 0) skip_unless(jump_imm(BPF_JNE, kType, r.type, 0));
  const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
  if (r.allow && r.access != all) {
    // Allowed only if every bit asked for is granted.
    b.push_back(mov_reg(kScratch, kAccess));
    b.push_back(alu32_imm(BPF_AND, kScratch, ~r.access & all));
    skip_unless(jump_imm(BPF_JNE, kScratch, 0, 0));
  } else if (!r.allow && r.access != all) {
    // Denied if any bit asked for is named.
    b.push_back(mov_reg(kScratch, kAccess));
    b.push_back(alu32_imm(BPF_AND, kScratch, r.access));
    skip_unless(jump_imm(BPF_JEQ, kScratch, 0, 0));
  }
  if (r.major >= 0) skip_unless(jump_imm(BPF_JNE, kMajor, static_cast<int32_t>(r.major), 0));
  if (r.minor >= 0) skip_unless(jump_imm(BPF_JNE, kMinor, static_cast<int32_t>(r.minor), 0));
  b.push_back(mov_imm(0, r.allow ? 1 : 0));
  b.push_back(exit_insn());
  for (size_t at : skips) b[at].off = static_cast<int16_t>(b.size() - at - 1);
  return b;
}

Result<UniqueFd> open_cgroup_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno("open cgroup " + dir);
  return fd;
}

Result<std::vector<uint32_t>> attached_ids(int cgroup_fd, const std::string& dir) {
  std::vector<uint32_t> ids(64);
  union bpf_attr a{};
  a.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  a.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (bpf(BPF_PROG_QUERY, &a) != 0) return fail_errno("query device programs of " + dir);
  ids.resize(a.query.prog_cnt);
  return ids;
}

}  // namespace

Result<std::vector<bpf_insn>> compile_device_filter(const std::vector<DeviceCgroupRule>& rules) {
  std::vector<ParsedRule> parsed;
  for (size_t i = 0; i < rules.size(); i++) {
    auto p = parse_rule(rules[i], i);
    if (!p) return tl::unexpected(p.error());
    parsed.push_back(*p);
  }
  // r1 is the context (struct bpf_cgroup_dev_ctx): access_type holds the
  // device type in its low 16 bits and the access in its high 16.
  std::vector<bpf_insn> prog = {
      load_u32(kType, 1, offsetof(bpf_cgroup_dev_ctx, access_type)),
      mov_reg(kAccess, kType),
      alu32_imm(BPF_AND, kType, 0xffff),
      alu32_imm(BPF_RSH, kAccess, 16),
      load_u32(kMajor, 1, offsetof(bpf_cgroup_dev_ctx, major)),
      load_u32(kMinor, 1, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  // Last rule first: the first block that matches decides. A rule that
  // matches every access ends the program (the verifier refuses unreachable
  // instructions, and nothing after it could decide anything).
  for (auto it = parsed.rbegin(); it != parsed.rend(); ++it) {
    auto b = rule_block(*it);
    prog.insert(prog.end(), b.begin(), b.end());
    if (b.size() == 2) return prog;  // no condition: just "r0 = verdict; exit"
  }
  prog.push_back(mov_imm(0, 0));
  prog.push_back(exit_insn());
  return prog;
}

Result<> set_device_filter(const std::string& cgroup_dir, const std::vector<DeviceCgroupRule>& rules) {
  auto prog = compile_device_filter(rules);
  if (!prog) return tl::unexpected(prog.error());
  auto cg = open_cgroup_dir(cgroup_dir);
  if (!cg) return tl::unexpected(cg.error());
  auto before = attached_ids(cg->get(), cgroup_dir);
  if (!before) return tl::unexpected(before.error());

  static const char kLicense[] = "Apache";
  union bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(prog->data());
  load.insn_cnt = static_cast<uint32_t>(prog->size());
  load.license = reinterpret_cast<uint64_t>(kLicense);
  UniqueFd prog_fd(static_cast<int>(bpf(BPF_PROG_LOAD, &load)));
  if (!prog_fd) {
    // Ask again with the verifier's log so the error says why.
    int e = errno;
    std::string log(4096, '\0');
    load.log_level = 1;
    load.log_buf = reinterpret_cast<uint64_t>(log.data());
    load.log_size = static_cast<uint32_t>(log.size());
    UniqueFd again(static_cast<int>(bpf(BPF_PROG_LOAD, &load)));
    log.resize(log.find('\0'));
    return fail("load the device filter program" + (log.empty() ? std::string() : " (" + log + ")"), e);
  }

  union bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cg->get());
  attach.attach_bpf_fd = static_cast<uint32_t>(prog_fd.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &attach) != 0) return fail_errno("attach the device filter to " + cgroup_dir);

  // The new rules are in force; the old programs would otherwise still veto
  // whatever they denied.
  for (uint32_t id : *before) {
    union bpf_attr get{};
    get.prog_id = id;
    UniqueFd old(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, &get)));
    if (!old) continue;  // detached meanwhile
    union bpf_attr detach{};
    detach.target_fd = static_cast<uint32_t>(cg->get());
    detach.attach_bpf_fd = static_cast<uint32_t>(old.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, &detach) != 0 && errno != ENOENT)
      return fail_errno("detach the previous device filter from " + cgroup_dir);
  }
  return {};
}

Result<size_t> device_filter_count(const std::string& cgroup_dir) {
  auto cg = open_cgroup_dir(cgroup_dir);
  if (!cg) return tl::unexpected(cg.error());
  auto ids = attached_ids(cg->get(), cgroup_dir);
  if (!ids) return tl::unexpected(ids.error());
  return ids->size();
}

}  // namespace stack::rt
