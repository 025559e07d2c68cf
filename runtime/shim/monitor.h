// The shim's life after the command line: create the container through the
// runtime core with its stdout/stderr on pipes the shim reads, start it, then
// one poll loop over a signalfd, the two pipes and the control socket until
// the container's init is reaped and its output drained; then exit.json, and
// with --rm the container is deleted.
//
// Ownership: the shim is the parent of the container's init (the core clones
// it from our process), so waitpid tells us how it ended; as a child
// subreaper (set by main) it also reaps processes that the container
// orphaned when it has no pid namespace. Everything on disk except
// shim.pid/shim.sock (removed on exit) is left for the daemon or
// `stack-runtime delete` unless --rm.
#pragma once

#include "runtime/shim/options.h"
#include "runtime/shim/startup.h"

namespace stack::shim {

// Returns the shim's exit status: the container's exit code (128+signal
// when killed), or kShimFailed.
int run_monitor(const ShimOptions& options, StartupReport& report);

}  // namespace stack::shim
