// LocalNode on this host (node_local.cc implements local_node.h).
//
// Container dir layout (<root>/containers/<id>/): node.json (node_record.h),
// config.json (the bundle), upper/ work/ rootfs/ (replica_fs.h), hosts
// resolv.conf hostname (bind-mounted into the container), container.log[.N]
// (the shim's json-file log), exit.json (the shim's exit record),
// exec-*.json (process files of running execs).
//
// Binaries: stack-shim and stack-runtime are EngineOptions.shim_path /
// runtime_path when set, else found by locate_binary().
#pragma once

#include <string>

#include "base/error.h"

namespace stack::orch {

// `configured` when set (must be executable); else next to /proc/self/exe,
// then the build tree's layout relative to it (../runtime/NAME), else $PATH.
stack::Result<std::string> locate_binary(const std::string& name, const std::string& configured);

}  // namespace stack::orch
