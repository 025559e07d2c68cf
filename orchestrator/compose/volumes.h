// Service volume, tmpfs and device forms -> Mount / DeviceMapping.
//   volumes short: "data:/var/lib/x", "./src:/app:ro", "/abs:/x:rw,z",
//                  "~/cfg:/cfg" (HOME from the environment), "/only/target"
//                  (anonymous volume); a source starting with / . or ~ is a
//                  bind, anything else a named volume.
//   volumes long:  {type, source, target, read_only, bind: {propagation,
//                  create_host_path}, volume: {nocopy}, tmpfs: {size, mode},
//                  consistency}.
//   tmpfs:         "/run" or "/run:size=64m,mode=1777,ro".
//   devices:       "/dev/fuse", "/dev/a:/dev/b", "/dev/a:/dev/b:rw", or
//                  {source, target, permissions}.
// Relative bind sources resolve against the directory of the file the entry
// came from (Source::base_dir). tmpfs modes are read as octal digits.
#pragma once

#include "orchestrator/compose/interpolation.h"
#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

stack::Result<Mount> parse_volume(const Node& item, const std::string& path, const Lookup& env);
stack::Result<Mount> parse_tmpfs(const Node& item, const std::string& path);
stack::Result<DeviceMapping> parse_device(const Node& item, const std::string& path);

}  // namespace stack::compose
