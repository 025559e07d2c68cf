#include "orchestrator/compose/extends.h"

#include <filesystem>
#include <map>

#include "orchestrator/compose/merge.h"

namespace stack::compose {

std::string resolve_path(const Mark& m, const std::string& rel) {
  std::filesystem::path p(rel);
  if (p.is_absolute() || !m.source) return p.lexically_normal().string();
  return (std::filesystem::path(m.source->base_dir) / p).lexically_normal().string();
}

namespace {

class Resolver {
 public:
  Resolver(Node& doc, const LoadFile& load) : doc_(doc), load_(load) {}

  stack::Result<void> all() {
    Node* services = doc_.find("services");
    if (!services || !services->is_map()) return {};
    for (auto& e : services->entries) {
      auto r = resolve(e.key, {});
      if (!r) return r;
    }
    return {};
  }

 private:
  stack::Result<void> resolve(const std::string& name, std::vector<std::string> chain) {
    Node* services = doc_.find("services");
    Node* svc = services ? services->find(name) : nullptr;
    if (!svc || !svc->is_map()) return {};
    const Node* ext = svc->find("extends");
    if (!ext) return {};
    std::string path = "services." + name + ".extends";
    for (auto& c : chain)
      if (c == name) {
        std::string cycle;
        for (auto& x : chain) cycle += x + " -> ";
        return fail_at(ext->mark, path, "extends cycle: " + cycle + name);
      }
    chain.push_back(name);
    std::string base_name, file;
    if (ext->is_scalar()) {
      base_name = ext->scalar;
    } else {
      if (const Node* s = ext->find("service")) base_name = s->scalar;
      if (const Node* f = ext->find("file")) file = resolve_path(f->mark, f->scalar);
    }
    Node base;
    if (file.empty()) {
      if (!services->find(base_name))
        return fail_at(ext->mark, path, "extends unknown service \"" + base_name + "\"");
      auto r = resolve(base_name, chain);
      if (!r) return r;
      base = *doc_.find("services")->find(base_name);
    } else {
      auto other = load_(FileRequest{file, std::filesystem::path(file).parent_path().string(), {}, ext->mark, path});
      if (!other) return tl::unexpected(other.error());
      const Node* os = other->find("services");
      const Node* b = os ? os->find(base_name) : nullptr;
      if (!b) return fail_at(ext->mark, path, "service \"" + base_name + "\" not found in " + file);
      base = *b;
    }
    // Re-find: resolving the base may have rewritten the services mapping.
    svc = doc_.find("services")->find(name);
    Node over = *svc;
    over.erase("extends");
    base.erase("extends");
    merge_service(base, over);
    base.mark = over.mark;
    *svc = std::move(base);
    return {};
  }

  Node& doc_;
  const LoadFile& load_;
};

}  // namespace

stack::Result<void> resolve_extends(Node& document, const LoadFile& load) { return Resolver(document, load).all(); }

}  // namespace stack::compose
