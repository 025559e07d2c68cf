// `healthcheck` and our extension `x-healthcheck` -> model.
//
// healthcheck: a string test is ["CMD-SHELL", test]; ["NONE"] or
// disable: true disables; no test at all keeps the image's test with the
// timings given here (as Compose does).
//
// x-healthcheck (stack only; Compose ignores x-* keys) probes the service
// from the host side, for images without curl/wget:
//   x-healthcheck:
//     http: {port: 3000, path: /, status: "200-399"}   # or: tcp: {port: 6379}
//     interval: 5s
//     timeout: 2s
//     retries: 3
//     start_period: 0s
//     start_interval: 5s
// Exactly one of http/tcp; port 1-65535 required; path defaults to "/";
// status is "200-399" (default), "200" or a "min-max" range. Timing fields
// read and default as in `healthcheck`.
#pragma once

#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

stack::Result<Healthcheck> parse_healthcheck(const Node& n, const std::string& path);
stack::Result<NativeProbe> parse_native_probe(const Node& n, const std::string& path);

}  // namespace stack::compose
