// Signal names as people write them -> signal numbers. The one parser:
// stack-runtime's kill, the shim's kill command, the compose loader
// (stop_signal, so a bad name is a load error with file:line) and stackd
// (stop and kill) all read signals through it. Header-only because the
// compose loader and its fuzz target may use runtime/kernel headers but do
// not link the runtime library.
#pragma once

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/error.h"

namespace stack::rt {

// "KILL", "SIGKILL", "sigkill", "9" -> 9. Anything else is EINVAL.
inline Result<int> parse_signal(const std::string& name) {
  if (name.empty()) return fail("empty signal name", EINVAL);
  if (std::isdigit(static_cast<unsigned char>(name[0]))) {
    // All digits ("9x" is no signal), and few enough not to overflow.
    if (name.find_first_not_of("0123456789") != std::string::npos || name.size() > 3)
      return fail("invalid signal \"" + name + "\"", EINVAL);
    int n = std::atoi(name.c_str());
    if (n <= 0 || n >= NSIG) return fail("invalid signal \"" + name + "\"", EINVAL);
    return n;
  }
  std::string s = name;
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s.rfind("SIG", 0) == 0) s = s.substr(3);
  for (int i = 1; i < NSIG; i++) {
    const char* abbrev = ::sigabbrev_np(i);
    if (abbrev && s == abbrev) return i;
  }
  return fail("invalid signal \"" + name + "\"", EINVAL);
}

}  // namespace stack::rt
