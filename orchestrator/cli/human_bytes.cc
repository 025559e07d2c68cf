#include "orchestrator/cli/human_bytes.h"

#include <cstdio>

namespace stack::cli {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u ? "%.1f%s" : "%.0f%s", b, units[u]);
  return buf;
}

}  // namespace stack::cli
