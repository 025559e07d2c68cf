// The device policy (runtime/container/device_rules.h) and the cgroup v2
// device program compiled from it (runtime/kernel/device_filter.h). The
// program is run here by a small interpreter of the few instructions the
// compiler emits, so each verdict is checked the way the kernel computes it;
// tests/privileged/device_filter_test.cc attaches it for real.
#include <cstring>

#include <gtest/gtest.h>

#include "runtime/container/default_spec.h"
#include "runtime/container/device_rules.h"
#include "runtime/kernel/device_filter.h"

using namespace stack::rt;

namespace {

enum Access { M = BPF_DEVCG_ACC_MKNOD, R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE };
constexpr int kChar = BPF_DEVCG_DEV_CHAR, kBlock = BPF_DEVCG_DEV_BLOCK;

// Runs `prog` on one access; fails the test on an instruction it does not
// know (the compiler must stay within this subset).
int verdict(const std::vector<bpf_insn>& prog, int type, int access, uint32_t major, uint32_t minor) {
  bpf_cgroup_dev_ctx ctx{static_cast<uint32_t>(type | (access << 16)), major, minor};
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < prog.size(); pc++) {
    const bpf_insn& i = prog[pc];
    const uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: {
        EXPECT_EQ(i.src_reg, 1);
        uint32_t v;
        std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
        reg[i.dst_reg] = v;
        break;
      }
      case BPF_ALU64 | BPF_MOV | BPF_X: reg[i.dst_reg] = reg[i.src_reg]; break;
      case BPF_ALU64 | BPF_MOV | BPF_K: reg[i.dst_reg] = imm; break;
      case BPF_ALU | BPF_AND | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg] & imm); break;
      case BPF_ALU | BPF_RSH | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) >> i.imm; break;
      case BPF_JMP | BPF_JNE | BPF_K: if (reg[i.dst_reg] != imm) pc += i.off; break;
      case BPF_JMP | BPF_JEQ | BPF_K: if (reg[i.dst_reg] == imm) pc += i.off; break;
      case BPF_JMP | BPF_EXIT: return static_cast<int>(reg[0]);
      default: ADD_FAILURE() << "unexpected instruction 0x" << std::hex << int(i.code); return -1;
    }
  }
  ADD_FAILURE() << "program ran off its end";
  return -1;
}

std::vector<bpf_insn> compile(const std::vector<DeviceCgroupRule>& rules) {
  auto p = compile_device_filter(rules);
  EXPECT_TRUE(p) << p.error().message();
  return p ? *p : std::vector<bpf_insn>{};
}

TEST(DeviceRules, DefaultContainerGetsDenyAllThenDockersAllowList) {
  Spec s = default_spec();
  auto rules = effective_device_rules(s);
  ASSERT_GE(rules.size(), 13u);
  EXPECT_FALSE(rules[0].allow);
  EXPECT_EQ(rules[0].type, "a");
  auto p = compile(rules);
  EXPECT_EQ(verdict(p, kChar, R | W, 1, 3), 1);    // /dev/null
  EXPECT_EQ(verdict(p, kChar, R, 1, 9), 1);        // /dev/urandom
  EXPECT_EQ(verdict(p, kChar, R | W, 136, 7), 1);  // a pty
  EXPECT_EQ(verdict(p, kChar, R | W, 10, 200), 1); // tun
  EXPECT_EQ(verdict(p, kBlock, M, 8, 0), 1);       // mknod of anything is harmless
  EXPECT_EQ(verdict(p, kBlock, R, 8, 0), 0);       // reading the host's disk is not
  EXPECT_EQ(verdict(p, kBlock, R, 7, 0), 0);
  EXPECT_EQ(verdict(p, kChar, R, 1, 1), 0);        // /dev/mem
  EXPECT_EQ(verdict(p, kChar, W, 10, 229), 0);     // fuse
}

TEST(DeviceRules, TheDefaultsStayAllowedWhateverTheSpecSaysAndListedNodesGetOnlyWhatTheRulesSay) {
  Spec s = default_spec();
  s.linux.devices.push_back({"/dev/fuse", "c", 10, 229, std::nullopt, std::nullopt, std::nullopt});
  Resources r;
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"},  // what generated configs start with
               {false, "c", 1, 9, "rwm"},                        // deny urandom, a default
               {true, "c", 10, 229, "r"}};                       // fuse, read only
  s.linux.resources = r;
  auto p = compile(effective_device_rules(s));
  EXPECT_EQ(verdict(p, kChar, R, 10, 229), 1);
  EXPECT_EQ(verdict(p, kChar, R | W, 10, 229), 0);
  // runc's AllowedDevices come last: the defaults survive the spec's denials.
  for (auto [maj, min] : std::vector<std::pair<int, int>>{{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1},
                                                          {5, 2}, {10, 200}, {136, 0}, {136, 9}})
    EXPECT_EQ(verdict(p, kChar, R | W, maj, min), 1) << maj << ":" << min;
  EXPECT_EQ(verdict(p, kBlock, R, 8, 0), 0);
  s.linux.resources.reset();
  EXPECT_EQ(verdict(compile(effective_device_rules(s)), kChar, R, 10, 229), 0) << "listed, not allowed";
}

TEST(DeviceRules, PrivilegedAllowAllOpensEverything) {
  Spec s = default_spec();
  Resources r;
  r.devices = {{true, "a", std::nullopt, std::nullopt, "rwm"}};
  s.linux.resources = r;
  auto p = compile(effective_device_rules(s));
  EXPECT_EQ(verdict(p, kBlock, R | W, 8, 0), 1);
  EXPECT_EQ(verdict(p, kChar, R, 1, 1), 1);
}

TEST(DeviceFilter, AccessBitsMustAllBeGrantedAndAnyDeniedBitDenies) {
  auto p = compile({{false, "a", {}, {}, "rwm"}, {true, "c", 4, std::nullopt, "r"}, {false, "c", 4, 1, "w"}});
  EXPECT_EQ(verdict(p, kChar, R, 4, 5), 1);
  EXPECT_EQ(verdict(p, kChar, R | W, 4, 5), 0);  // write not granted
  EXPECT_EQ(verdict(p, kChar, R, 4, 1), 1);      // the deny names only w
  EXPECT_EQ(verdict(p, kChar, W, 4, 1), 0);
  EXPECT_EQ(verdict(p, kBlock, R, 4, 5), 0);     // type matters
  EXPECT_EQ(verdict(p, kChar, R, 5, 5), 0);      // major matters
}

TEST(DeviceFilter, EmptyListDeniesEverything) {
  auto p = compile({});
  EXPECT_EQ(verdict(p, kChar, R, 1, 3), 0);
}

TEST(DeviceFilter, BadRulesAreErrorsNamingTheEntry) {
  auto t = compile_device_filter({{true, "c", 1, 3, "rwm"}, {true, "x", 1, 3, "rwm"}});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().context, "linux.resources.devices[1]: type \"x\" (want a, b or c)");
  auto a = compile_device_filter({{true, "c", 1, 3, "rwq"}});
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().context, "linux.resources.devices[0]: access \"rwq\" (want a subset of rwm)");
  auto big = compile_device_filter({{true, "c", int64_t{1} << 33, 3, "r"}});
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().context.find("major 8589934592 is out of range"), std::string::npos);
}

}  // namespace
