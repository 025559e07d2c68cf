#include "runtime/shim/rfc3339.h"

#include <cstring>

namespace stack::shim {
namespace {

void digits(char* out, long value, int width) {
  for (int i = width - 1; i >= 0; i--) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// gmtime_r only when the second changes: a busy container logs many records
// per second and they share the date and time.
struct SecondCache {
  time_t sec = -1;
  char prefix[20] = {};  // "2024-05-01T12:00:00", not NUL-terminated
};
thread_local SecondCache cache;

}  // namespace

size_t format_rfc3339_nano(const struct timespec& ts, char (&out)[kRfc3339Size]) {
  if (ts.tv_sec != cache.sec) {
    struct tm tm{};
    ::gmtime_r(&ts.tv_sec, &tm);
    char* p = cache.prefix;
    digits(p, (tm.tm_year + 1900) % 10000, 4);
    p[4] = '-';
    digits(p + 5, tm.tm_mon + 1, 2);
    p[7] = '-';
    digits(p + 8, tm.tm_mday, 2);
    p[10] = 'T';
    digits(p + 11, tm.tm_hour, 2);
    p[13] = ':';
    digits(p + 14, tm.tm_min, 2);
    p[16] = ':';
    digits(p + 17, tm.tm_sec, 2);
    cache.sec = ts.tv_sec;
  }
  std::memcpy(out, cache.prefix, 19);
  out[19] = '.';
  digits(out + 20, ts.tv_nsec, 9);
  out[29] = 'Z';
  out[30] = '\0';
  return 30;
}

struct timespec realtime_now() {
  struct timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

std::string rfc3339_now() {
  char buf[kRfc3339Size];
  size_t n = format_rfc3339_nano(realtime_now(), buf);
  return std::string(buf, n);
}

}  // namespace stack::shim
