#include "runtime/kernel/mount_options.h"

#include <sys/mount.h>

#include <cerrno>
#include <string_view>

namespace stack::rt {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // "rw" clears MS_RDONLY, "suid" clears MS_NOSUID ...
  unsigned long flag;
};

// Same table as runc's parseMountOptions; "defaults" sets nothing.
constexpr FlagOption kFlags[] = {
    {"acl", false, MS_POSIXACL},
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"iversion", false, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},
    {"mand", false, MS_MANDLOCK},
    {"noacl", true, MS_POSIXACL},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"noiversion", true, MS_I_VERSION},
    {"nolazytime", true, MS_LAZYTIME},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"silent", false, MS_SILENT},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr PropagationOption kPropagation[] = {
    {"private", MS_PRIVATE},           {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},             {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},               {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},     {"runbindable", MS_UNBINDABLE | MS_REC},
};

// Recursive attributes (runc >= 1.1). The atime ones are a three-way choice
// in mount_setattr: set one value and clear the whole MOUNT_ATTR__ATIME
// field. "ratime", "rnorelatime" and "rnostrictatime" have no single
// meaning there; they fall back to the kernel default, relatime.
struct RecAttrOption {
  std::string_view name;
  bool clear;
  uint64_t attr;
};

constexpr RecAttrOption kRecAttrs[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},           {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},       {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},         {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},       {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME}, {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW}, {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

constexpr std::string_view kRecAtime[] = {"rrelatime", "rnoatime", "rstrictatime",
                                          "ratime", "rnorelatime", "rnostrictatime"};

uint64_t rec_atime_value(std::string_view name) {
  if (name == "rnoatime") return MOUNT_ATTR_NOATIME;
  if (name == "rstrictatime") return MOUNT_ATTR_STRICTATIME;
  return MOUNT_ATTR_RELATIME;
}

}  // namespace

bool MountOptions::bind() const { return (flags & MS_BIND) != 0; }
bool MountOptions::recursive() const { return (flags & MS_REC) != 0; }

unsigned long MountOptions::bind_remount_flags() const {
  return flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
}

Result<unsigned long> parse_propagation(const std::string& name) {
  for (const auto& p : kPropagation)
    if (p.name == name) return p.flags;
  return fail("unknown mount propagation \"" + name + "\"", EINVAL);
}

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (const std::string& opt : options) {
    bool known = false;
    for (const auto& f : kFlags) {
      if (f.name != opt) continue;
      if (f.clear)
        out.flags &= ~f.flag;
      else
        out.flags |= f.flag;
      known = true;
      break;
    }
    if (known) continue;
    for (const auto& p : kPropagation) {
      if (p.name != opt) continue;
      out.propagation.push_back(p.flags);
      known = true;
      break;
    }
    if (known) continue;
    for (const auto& r : kRecAttrs) {
      if (r.name != opt) continue;
      if (r.clear) {
        out.rec_attr_clr |= r.attr;
        out.rec_attr_set &= ~r.attr;
      } else {
        out.rec_attr_set |= r.attr;
        out.rec_attr_clr &= ~r.attr;
      }
      known = true;
      break;
    }
    if (known) continue;
    for (std::string_view a : kRecAtime) {
      if (a != opt) continue;
      out.rec_attr_set = (out.rec_attr_set & ~uint64_t{MOUNT_ATTR__ATIME}) | rec_atime_value(a);
      out.rec_attr_clr |= MOUNT_ATTR__ATIME;
      known = true;
      break;
    }
    if (known) continue;
    if (opt == "tmpcopyup") {
      // Podman copies the image's content under a new tmpfs. Copying a tree
      // in the child cannot be done without allocating per entry, so we
      // accept the option (specs generated by podman carry it) and mount an
      // empty tmpfs, which is what every other runtime but crun does.
      out.copy_up = true;
      continue;
    }
    if (opt == "idmap" || opt == "ridmap")
      return fail("mount option \"" + opt + "\": id-mapped mounts are not supported", EINVAL);
    if (opt.empty()) continue;
    // Unknown to us: a filesystem option such as mode=755, size=64m,
    // newinstance, ptmxmode=0666, gid=5. runc passes these through too.
    if (!out.data.empty()) out.data += ',';
    out.data += opt;
  }
  return out;
}

}  // namespace stack::rt
