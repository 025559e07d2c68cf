// What a child after clone reports when a step fails. It may not allocate, so
// the message is assembled by plain byte copies into a fixed buffer and the
// whole struct is written to the parent over the sync socket.
#pragma once

#include <cstddef>
#include <initializer_list>

namespace stack::rt {

struct ChildError {
  int code = 0;       // errno
  char what[480]{};   // "mount proc on /proc"

  // Async-signal-safe: appends up to four NUL-terminated pieces.
  void set(int err, const char* a, const char* b = nullptr, const char* c = nullptr,
           const char* d = nullptr) noexcept {
    code = err;
    size_t n = 0;
    for (const char* s : {a, b, c, d}) {
      if (!s) continue;
      while (*s && n + 1 < sizeof(what)) what[n++] = *s++;
    }
    what[n] = '\0';
  }
};

}  // namespace stack::rt
