#include "orchestrator/compose/build.h"

#include "orchestrator/compose/documents.h"
#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/normalize.h"

namespace stack::compose {

namespace {

// Compose's remote build contexts: a git repository or an http(s) tarball.
bool remote_context(const std::string& c) {
  return c.find("://") != std::string::npos || c.rfind("git@", 0) == 0 || c.rfind("github.com/", 0) == 0;
}

// Absolute and clean, as Compose prints it: "." is the directory itself, with
// no trailing slash.
std::string context_of(const Node& n) {
  if (remote_context(n.scalar)) return n.scalar;
  std::string p = resolve_path(n.mark, n.scalar.empty() ? "." : n.scalar);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

stack::Result<Build> parse_build(const Node& n, const std::string& path, const Lookup& env) {
  Build b;
  if (n.is_scalar()) {
    b.context = context_of(n);
    return b;
  }
  if (!n.is_map()) return fail_at(n.mark, path, std::string("expected a string or a mapping, got ") + kind_name(n.kind));
  // No context: the directory of the file (Compose's default ".").
  const Node* c = n.find("context");
  b.context = context_of(c ? *c : Node::make_scalar(".", n.mark));
  if (const Node* d = n.find("dockerfile"); d && !d->scalar.empty()) b.dockerfile = d->scalar;
  if (const Node* t = n.find("target")) STACK_COMPOSE_ASSIGN(b.target, read_string(*t, path + ".target"));
  if (const Node* a = n.find("args"); a && a->is_map())
    for (auto& e : a->entries) {
      if (e.value.is_null()) {
        if (auto v = env ? env(e.key) : std::nullopt) b.args[e.key] = *v;
        continue;
      }
      STACK_COMPOSE_ASSIGN(b.args[e.key], read_string(e.value, join_path(path + ".args", e.key)));
    }
  return b;
}

std::string default_image_name(const std::string& project, const std::string& service) {
  return project + "-" + service;
}

bool image_is_built(const Project& project, const Service& service) {
  return service.build && service.image == default_image_name(project.name, service.name);
}

}  // namespace stack::compose
