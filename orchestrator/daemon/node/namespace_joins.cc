#include "orchestrator/daemon/node/namespace_joins.h"

namespace stack::orch {

stack::Result<std::map<std::string, std::string>> namespace_joins(const rt::StateDir& runtime, const ReplicaSpec& s) {
  std::map<std::string, std::string> out;
  const std::pair<std::string, std::string> modes[] = {{"pid", s.pid}, {"ipc", s.ipc}};
  for (const auto& [type, mode] : modes) {
    if (mode.rfind("container:", 0) != 0) continue;
    const std::string id = mode.substr(10);
    auto rec = runtime.load(id);
    if (!rec || rt::status_of(runtime, *rec) != rt::Status::Running)
      return stack::fail("service " + s.name + ": " + type + " " + mode + ": no such running container here", ENOENT);
    out[type] = "/proc/" + std::to_string(rec->pid) + "/ns/" + type;
  }
  return out;
}

}  // namespace stack::orch
