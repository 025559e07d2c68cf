#include "orchestrator/compose/isolation.h"

#include <set>

#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/normalize.h"

namespace stack::compose {

namespace {

bool joins_other(const std::string& mode) { return mode.rfind("service:", 0) == 0 || mode.rfind("container:", 0) == 0; }

// `allowed`: the modes besides joins. service:NAME / container:NAME (where
// Docker has them: pid, ipc) join that replica's namespace; checks.cc makes
// sure NAME is in the file.
stack::Result<std::string> read_mode(const Node& v, const std::string& path, const std::set<std::string>& allowed,
                                  bool may_join) {
  std::string mode;
  STACK_COMPOSE_ASSIGN(mode, read_string(v, path));
  if (mode.empty() || allowed.count(mode)) return mode;
  if (may_join && joins_other(mode) && mode.find(':') + 1 < mode.size()) return mode;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  if (may_join) list += ", service:NAME, container:NAME";
  return fail_at(v.mark, path, "invalid mode \"" + mode + "\" (" + list + ")");
}

}  // namespace

stack::Result<bool> read_isolation_field(const std::string& k, const Node& v, const std::string& p, Service& s,
                                      std::vector<Warning>& warnings) {
  if (k == "pid") {
    STACK_COMPOSE_ASSIGN(s.pid, read_mode(v, p, {"host"}, true));
  } else if (k == "ipc") {
    STACK_COMPOSE_ASSIGN(s.ipc, read_mode(v, p, {"host", "private", "shareable"}, true));
  } else if (k == "uts") {
    STACK_COMPOSE_ASSIGN(s.uts, read_mode(v, p, {"host"}, false));
  } else if (k == "cgroup") {
    STACK_COMPOSE_ASSIGN(s.cgroup, read_mode(v, p, {"host", "private"}, false));
  } else if (k == "userns_mode") {
    std::string mode;
    STACK_COMPOSE_ASSIGN(mode, read_string(v, p));
    if (!mode.empty() && mode != "host")
      add_warning(warnings, v.mark, p,
                  "not supported by stack yet, ignored: \"" + mode + "\" (replicas run without a user namespace, as "
                  "with \"host\")");
  } else if (k == "group_add") {
    // Numbers, or names resolved in the image's /etc/group when the replica
    // is created (the node says which one is missing).
    STACK_COMPOSE_ASSIGN(s.group_add, read_string_list(v, p));
    for (size_t i = 0; i < s.group_add.size(); ++i)
      if (s.group_add[i].empty()) return fail_at(v.mark, p + "[" + std::to_string(i) + "]", "empty group");
  } else if (k == "annotations") {
    STACK_COMPOSE_ASSIGN(s.annotations, read_string_map(v, p));
  } else {
    return false;
  }
  return true;
}

}  // namespace stack::compose
