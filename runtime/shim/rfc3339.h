// Timestamps the shim writes (log records, exit.json): RFC 3339 in UTC with
// nanoseconds, "2024-05-01T12:00:00.123456789Z", the form Docker's json-file
// driver and Go's time.RFC3339Nano parser accept. Formatting never allocates:
// it runs once per log record.
#pragma once

#include <time.h>

#include <cstddef>
#include <string>

namespace stack::shim {

inline constexpr size_t kRfc3339Size = 32;  // 30 characters + NUL, rounded up

// Writes the timestamp and its NUL into `out`; returns its length (30).
size_t format_rfc3339_nano(const struct timespec& ts, char (&out)[kRfc3339Size]);

struct timespec realtime_now();
std::string rfc3339_now();

}  // namespace stack::shim
