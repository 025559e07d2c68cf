#include "runtime/kernel/mountinfo.h"
#include "base/io.h"

#include <sys/mount.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace stack::rt {

std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const char* p = s.c_str() + i + 1;
      if (p[0] >= '0' && p[0] <= '7' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7') {
        out += static_cast<char>((p[0] - '0') * 64 + (p[1] - '0') * 8 + (p[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<std::string> mount_points_under(const std::string& mountinfo, const std::string& dir) {
  std::vector<std::string> out;
  std::istringstream in(mountinfo);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    if (!(f >> id >> parent >> dev >> root >> point)) continue;
    point = unescape_mountinfo(point);
    if (point == dir || (point.size() > dir.size() && point.compare(0, dir.size(), dir) == 0 &&
                         (dir == "/" || point[dir.size()] == '/')))
      out.push_back(point);
  }
  return out;
}

Result<> unmount_under(const std::string& dir) {
  auto table = io::read_file("/proc/self/mountinfo");
  if (!table) return tl::unexpected(table.error());
  // mountinfo shows resolved paths.
  std::error_code ec;
  std::string real = std::filesystem::weakly_canonical(dir, ec).string();
  auto points = mount_points_under(*table, ec || real.empty() ? dir : real);
  for (auto it = points.rbegin(); it != points.rend(); ++it)
    if (::umount2(it->c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
      return fail_errno("unmount " + *it);
  return {};
}

}  // namespace stack::rt
