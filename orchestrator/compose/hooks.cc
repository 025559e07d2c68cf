#include "orchestrator/compose/hooks.h"

#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/normalize.h"

namespace stack::compose {

stack::Result<std::vector<LifecycleHook>> read_hooks(const Node& v, const std::string& path) {
  std::vector<LifecycleHook> out;
  for (size_t i = 0; i < v.items.size(); ++i) {
    const Node& h = v.items[i];
    const std::string p = path + "[" + std::to_string(i) + "]";
    LifecycleHook hook;
    std::optional<std::vector<std::string>> command;
    if (const Node* c = h.find("command")) STACK_COMPOSE_ASSIGN(command, read_command(*c, p + ".command"));
    if (!command || command->empty()) return fail_at(h.mark, p + ".command", "a hook needs a command");
    hook.command = std::move(*command);
    if (const Node* u = h.find("user")) STACK_COMPOSE_ASSIGN(hook.user, read_string(*u, p + ".user"));
    if (const Node* x = h.find("privileged")) STACK_COMPOSE_ASSIGN(hook.privileged, read_bool(*x, p + ".privileged"));
    if (const Node* w = h.find("working_dir")) STACK_COMPOSE_ASSIGN(hook.working_dir, read_string(*w, p + ".working_dir"));
    if (const Node* e = h.find("environment")) {
      if (e->is_seq()) {  // ["A=1", "B"]: a bare name is an empty value here
        for (const auto& item : e->items) {
          auto eq = item.scalar.find('=');
          hook.environment[item.scalar.substr(0, eq)] = eq == std::string::npos ? "" : item.scalar.substr(eq + 1);
        }
      } else {
        STACK_COMPOSE_ASSIGN(hook.environment, read_string_map(*e, p + ".environment"));
      }
    }
    out.push_back(std::move(hook));
  }
  return out;
}

}  // namespace stack::compose
