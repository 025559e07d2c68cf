// OCI seccomp profile -> classic BPF, in the parent before clone:
//   validate  names and indexes, with the field named in errors;
//   compile   libseccomp builds the filter, exported to a memfd and read back;
//   stub      an ENOSYS prologue for syscalls newer than the profile knows;
//   cache     <cache_dir>/<sha256>.bpf, so the common start is one file read;
//   load      seccomp(2) in the child, async-signal-safe.
#include "base/hash.h"
#include "base/io.h"
#include "runtime/kernel/seccomp.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <seccomp.h>
// libmd's SHA-256 rather than OpenSSL's: the shim links this file and must
// stay small, and libcrypto alone added ~3 MB RSS to every shim.
#include <sha2.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "base/fd.h"

namespace stack::rt {
namespace {

// ---- names -------------------------------------------------------------

struct ArchName {
  const char* name;
  uint32_t token;
};
constexpr ArchName kArches[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
};

std::optional<uint32_t> arch_token(const std::string& name) {
  for (const auto& a : kArches)
    if (name == a.name) return a.token;
  return std::nullopt;
}

struct OpName {
  const char* name;
  scmp_compare op;
};
constexpr OpName kOps[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

std::optional<scmp_compare> op_value(const std::string& name) {
  for (const auto& o : kOps)
    if (name == o.name) return o.op;
  return std::nullopt;
}

struct FlagName {
  const char* name;
  unsigned flag;
};
constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

std::optional<unsigned> flag_value(const std::string& name) {
  for (const auto& f : kFlags)
    if (name == f.name) return f.flag;
  return std::nullopt;
}

constexpr uint32_t kDefaultErrno = EPERM;  // OCI: errnoRet unset means EPERM

// The libseccomp action for an OCI action name, or nullopt when unknown or
// unsupported (NOTIFY needs a listener we do not run).
std::optional<uint32_t> action_value(const std::string& name, std::optional<uint32_t> errno_ret) {
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(kDefaultErrno));
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(kDefaultErrno));
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  return std::nullopt;
}

std::string action_problem(const std::string& name) {
  if (name == "SCMP_ACT_NOTIFY") return "SCMP_ACT_NOTIFY is not supported (no seccomp agent)";
  return "unknown action " + name;
}

// Default actions that refuse: only then do unknown new syscalls get ENOSYS
// (under ALLOW/LOG/TRACE they already run, as the user asked).
bool default_refuses(const std::string& action) {
  return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_KILL" || action == "SCMP_ACT_KILL_THREAD" ||
         action == "SCMP_ACT_KILL_PROCESS" || action == "SCMP_ACT_TRAP";
}

std::string prefixed(const std::string& origin, const std::string& field) {
  return origin.empty() ? field : origin + ": " + field;
}

unsigned filter_flags(const Seccomp& profile) {
  unsigned flags = 0;
  for (const auto& f : profile.flags) flags |= flag_value(f).value_or(0);  // validated already
  return flags;
}

// ---- ENOSYS stub -------------------------------------------------------

// x32 syscalls are x86_64 numbers with this bit set; the stub leaves them to
// the filter proper.
constexpr uint32_t kX32Bit = 0x40000000;

// Six instructions in front of libseccomp's program:
//   if (arch == AUDIT_ARCH_X86_64 && nr > max && nr < 0x40000000) return ERRNO(ENOSYS);
// Jumps are relative to the next instruction; every "no" lands on the first
// instruction of the original program, which reloads what it needs, and the
// original's own jumps are relative so they stay valid behind the stub.
std::vector<sock_filter> enosys_stub(uint32_t max_nr) {
  return {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),  // no -> original
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, max_nr, 0, 2),             // nr <= max -> original
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kX32Bit, 1, 0),            // x32 -> original
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
  };
}

// ---- libseccomp compile ------------------------------------------------

struct CtxRelease {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterCtx = std::unique_ptr<void, CtxRelease>;  // owns one scmp_filter_ctx

Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
  UniqueFd mem(::memfd_create("stack-seccomp-bpf", MFD_CLOEXEC));
  if (!mem) return fail_errno("seccomp: memfd_create for the BPF export");
  if (int rc = seccomp_export_bpf(ctx, mem.get()); rc < 0) return fail("seccomp: export BPF", -rc);
  struct stat st {};
  if (::fstat(mem.get(), &st) < 0) return fail_errno("seccomp: stat the exported BPF");
  if (st.st_size <= 0 || st.st_size % sizeof(sock_filter) != 0)
    return fail("seccomp: exported BPF has odd size " + std::to_string(st.st_size));
  std::vector<sock_filter> insns(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
  size_t want = static_cast<size_t>(st.st_size), got = 0;
  auto* p = reinterpret_cast<char*>(insns.data());
  while (got < want) {
    ssize_t n = ::pread(mem.get(), p + got, want - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("seccomp: read back the exported BPF");
    if (n == 0) return fail("seccomp: exported BPF shorter than its size");
    got += static_cast<size_t>(n);
  }
  return insns;
}

Result<std::vector<sock_filter>> compile_with_libseccomp(const Seccomp& profile) {
  const uint32_t def = *action_value(profile.default_action, profile.default_errno_ret);
  FilterCtx ctx(seccomp_init(def));
  if (!ctx) return fail("seccomp: seccomp_init with default action " + profile.default_action, EINVAL);
  // The runtime sets no_new_privs itself (or not, as the spec says).
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    return fail("seccomp: clear SCMP_FLTATR_CTL_NNP", -rc);
  // A binary tree over syscall numbers instead of libseccomp's default
  // linear list: Docker's profile names ~400 syscalls, and every syscall the
  // container makes walks the filter. Failing to set it only costs speed.
  (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (const auto& a : profile.architectures) {
    int rc = seccomp_arch_add(ctx.get(), *arch_token(a));
    if (rc < 0 && rc != -EEXIST) return fail("seccomp: add architecture " + a, -rc);
  }

  int max_native = -1;  // highest x86_64 number the profile names
  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    const auto& rule = profile.syscalls[i];
    const uint32_t act = *action_value(rule.action, rule.errno_ret);
    // libseccomp cannot AND two conditions on one argument; like runc, such a
    // rule becomes one rule per condition.
    bool same_arg_twice = false;
    unsigned seen = 0;
    std::vector<scmp_arg_cmp> conds;
    for (const auto& a : rule.args) {
      if (seen & (1u << a.index)) same_arg_twice = true;
      seen |= 1u << a.index;
      scmp_arg_cmp c{};
      c.arg = a.index;
      c.op = *op_value(a.op);
      c.datum_a = a.value;  // for MASKED_EQ: the mask
      c.datum_b = a.value_two;
      conds.push_back(c);
    }
    for (const auto& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown to libseccomp: skipped, as runc does
      if (nr >= 0) max_native = std::max(max_native, nr);
      if (act == def) continue;  // libseccomp refuses rules equal to the default; runc skips them
      auto add = [&](unsigned n, const scmp_arg_cmp* c) -> Result<void> {
        int rc = seccomp_rule_add_array(ctx.get(), act, nr, n, c);
        if (rc < 0 && rc != -EEXIST)
          return fail("seccomp: add rule syscalls[" + std::to_string(i) + "] for " + name, -rc);
        return {};
      };
      if (same_arg_twice) {
        for (const auto& c : conds) STACK_TRY(add(1, &c));
      } else {
        STACK_TRY(add(static_cast<unsigned>(conds.size()), conds.data()));
      }
    }
  }

  auto insns = export_bpf(ctx.get());
  if (!insns) return insns;
#if defined(__x86_64__)
  if (default_refuses(profile.default_action) && max_native >= 0) {
    auto stub = enosys_stub(static_cast<uint32_t>(max_native));
    insns->insert(insns->begin(), stub.begin(), stub.end());
  }
#endif
  if (insns->size() > BPF_MAXINSNS)
    return fail("seccomp: compiled filter has " + std::to_string(insns->size()) + " instructions, over the kernel's " +
                    std::to_string(BPF_MAXINSNS),
                E2BIG);
  return insns;
}

// ---- cache -------------------------------------------------------------

// Bump when the compile output changes for the same profile (stub, layout).
constexpr char kFormat[] = "stack-seccomp-bpf/2";  // 2: binary-tree filters

void put(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}
void put(std::string& out, uint64_t v) {
  out += std::to_string(v);
  out += ';';
}
void put(std::string& out, const std::optional<uint32_t>& v) {
  if (v) put(out, static_cast<uint64_t>(*v) + 1);  // 0 = unset, n+1 = n
  else put(out, uint64_t{0});
}

const std::string& kernel_release() {
  static const std::string release = [] {
    struct utsname u {};
    return ::uname(&u) == 0 ? std::string(u.release) : std::string();
  }();
  return release;
}

// Everything the BPF depends on, length-prefixed so no two profiles collide.
// Flags are left out: they go to seccomp(2), not into the program.
std::string canonical(const Seccomp& p) {
  std::string out;
  out.reserve(16384);
  put(out, kFormat);
  put(out, static_cast<uint64_t>(SCMP_VER_MAJOR));
  put(out, static_cast<uint64_t>(SCMP_VER_MINOR));
  put(out, static_cast<uint64_t>(SCMP_VER_MICRO));
  put(out, kernel_release());  // libseccomp probes the kernel's actions
#if defined(__x86_64__)
  put(out, "x86_64");
#else
  put(out, "other");
#endif
  put(out, p.default_action);
  put(out, p.default_errno_ret);
  put(out, p.architectures.size());
  for (const auto& a : p.architectures) put(out, a);
  put(out, p.syscalls.size());
  for (const auto& r : p.syscalls) {
    put(out, r.names.size());
    for (const auto& n : r.names) put(out, n);
    put(out, r.action);
    put(out, r.errno_ret);
    put(out, r.args.size());
    for (const auto& a : r.args) {
      put(out, a.index);
      put(out, a.value);
      put(out, a.value_two);
      put(out, a.op);
    }
  }
  return out;
}

using Key = std::array<unsigned char, 32>;

Key cache_key(const Seccomp& p) {
  std::string c = canonical(p);
  Key k{};
  SHA2_CTX ctx;
  SHA256Init(&ctx);
  SHA256Update(&ctx, reinterpret_cast<const uint8_t*>(c.data()), c.size());
  SHA256Final(k.data(), &ctx);
  return k;
}

std::string hex(const Key& k) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (unsigned char b : k) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

// File layout: header, count instructions, then FNV-1a of everything before.
// The checksum catches truncation and bit rot, not tampering: the cache
// directory must be writable by root only, like the runtime's state dir.
constexpr char kMagic[8] = {'S', 'T', 'K', 'B', 'P', 'F', '\0', '\1'};
struct CacheHeader {
  char magic[8];
  unsigned char key[32];
  uint32_t count;
  uint32_t reserved;
};
static_assert(sizeof(CacheHeader) == 48);

// The hit path: one open, one read. Anything unexpected is a miss.
std::optional<std::vector<sock_filter>> read_cache(const std::string& path, const Key& key) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  constexpr size_t kMax = sizeof(CacheHeader) + BPF_MAXINSNS * sizeof(sock_filter) + sizeof(uint64_t);
  std::vector<unsigned char> buf(kMax + 1);  // +1: a longer file reads as too long
  ssize_t n;
  do n = ::read(fd.get(), buf.data(), buf.size());
  while (n < 0 && errno == EINTR);
  if (n < static_cast<ssize_t>(sizeof(CacheHeader) + sizeof(uint64_t))) return std::nullopt;
  CacheHeader h;
  std::memcpy(&h, buf.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || std::memcmp(h.key, key.data(), key.size()) != 0 ||
      h.count == 0 || h.count > BPF_MAXINSNS)
    return std::nullopt;
  const size_t body = sizeof(CacheHeader) + h.count * sizeof(sock_filter);
  if (static_cast<size_t>(n) != body + sizeof(uint64_t)) return std::nullopt;
  uint64_t sum;
  std::memcpy(&sum, buf.data() + body, sizeof sum);
  if (sum != fnv1a(buf.data(), body)) return std::nullopt;
  std::vector<sock_filter> insns(h.count);
  std::memcpy(insns.data(), buf.data() + sizeof(CacheHeader), h.count * sizeof(sock_filter));
  return insns;
}

Result<void> mkdir_p(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) < 0 && errno != EEXIST) return fail_errno("mkdir " + part);
  }
  return {};
}

// Atomic replacement (base/io): a reader sees the old file, no file, or the
// whole new one; concurrent writers of one key write identical bytes.
Result<void> write_cache(const std::string& dir, const std::string& path, const Key& key,
                         const std::vector<sock_filter>& insns) {
  STACK_TRY(mkdir_p(dir));
  CacheHeader h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  std::memcpy(h.key, key.data(), key.size());
  h.count = static_cast<uint32_t>(insns.size());
  std::vector<unsigned char> buf(sizeof h + insns.size() * sizeof(sock_filter));
  std::memcpy(buf.data(), &h, sizeof h);
  std::memcpy(buf.data() + sizeof h, insns.data(), insns.size() * sizeof(sock_filter));
  uint64_t sum = fnv1a(buf.data(), buf.size());
  buf.insert(buf.end(), reinterpret_cast<unsigned char*>(&sum), reinterpret_cast<unsigned char*>(&sum) + sizeof sum);
  return io::write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()), 0600,
                               io::Durability::Disk);
}

std::string cache_file(const std::string& cache_dir, const Key& key) { return cache_dir + "/" + hex(key) + ".bpf"; }

}  // namespace

Result<void> validate_seccomp_syscall(const SeccompSyscall& rule, const std::string& field) {
  auto at = [&](const std::string& sub) { return field.empty() ? sub : field + "." + sub; };
  if (rule.names.empty()) return fail(at("names") + ": must be a non-empty array");
  if (!action_value(rule.action, rule.errno_ret)) return fail(at("action") + ": " + action_problem(rule.action));
  for (size_t i = 0; i < rule.args.size(); ++i) {
    const auto& a = rule.args[i];
    const std::string ap = at("args[" + std::to_string(i) + "]");
    if (a.index >= 6) return fail(ap + ".index: " + std::to_string(a.index) + " is not an argument index (0-5)");
    if (!op_value(a.op)) return fail(ap + ".op: unknown operator " + a.op);
  }
  return {};
}

Result<void> validate_seccomp(const Seccomp& profile, const std::string& origin) {
  if (!action_value(profile.default_action, profile.default_errno_ret))
    return fail(prefixed(origin, "defaultAction: " + action_problem(profile.default_action)));
  for (size_t i = 0; i < profile.architectures.size(); ++i)
    if (!arch_token(profile.architectures[i]))
      return fail(prefixed(origin, "architectures[" + std::to_string(i) + "]: unknown architecture " +
                                       profile.architectures[i]));
  for (size_t i = 0; i < profile.flags.size(); ++i)
    if (!flag_value(profile.flags[i]))
      return fail(prefixed(origin, "flags[" + std::to_string(i) + "]: unknown flag " + profile.flags[i]));
  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    auto ok = validate_seccomp_syscall(profile.syscalls[i], "syscalls[" + std::to_string(i) + "]");
    if (!ok) return fail(prefixed(origin, ok.error().context));
  }
  return {};
}

std::string seccomp_cache_path(const Seccomp& profile, const std::string& cache_dir) {
  return cache_file(cache_dir, cache_key(profile));
}

Result<SeccompProgram> compile_seccomp(const Seccomp& profile, const std::string& cache_dir) {
  STACK_TRY(validate_seccomp(profile));
  SeccompProgram prog;
  prog.flags = filter_flags(profile);

  Key key{};
  std::string path;
  if (!cache_dir.empty()) {
    key = cache_key(profile);
    path = cache_file(cache_dir, key);
    if (auto hit = read_cache(path, key)) {
      prog.insns = std::move(*hit);
      return prog;
    }
  }
  auto insns = compile_with_libseccomp(profile);
  if (!insns) return tl::unexpected(insns.error());
  prog.insns = std::move(*insns);
  if (!cache_dir.empty()) {
    // Best effort: a read-only or full cache directory costs the next start a
    // compile, it must not fail this one.
    (void)write_cache(cache_dir, path, key, prog.insns);
  }
  return prog;
}

int load_seccomp(const SeccompProgram& program) noexcept {
  if (program.insns.empty()) return 0;
  if (program.insns.size() > BPF_MAXINSNS) return EINVAL;
  struct sock_fprog fprog;
  fprog.len = static_cast<unsigned short>(program.insns.size());
  fprog.filter = const_cast<sock_filter*>(program.insns.data());
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &fprog);
  if (rc < 0) return errno;
  if (rc > 0) return ESRCH;  // TSYNC: thread `rc` could not be synchronised
  return 0;
}

}  // namespace stack::rt
