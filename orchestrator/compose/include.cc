#include "orchestrator/compose/include.h"

#include <filesystem>

#include "orchestrator/compose/merge.h"

namespace stack::compose {

namespace {

std::vector<const Node*> scalars_of(const Node* n) {
  std::vector<const Node*> out;
  if (!n) return out;
  if (n->is_scalar()) out.push_back(n);
  for (auto& i : n->items) out.push_back(&i);
  return out;
}

stack::Result<void> add_resources(Node& doc, const Node& included, const std::string& file, const Mark& from) {
  for (const char* top : {"services", "networks", "volumes", "configs", "secrets"}) {
    const Node* src = included.find(top);
    if (!src || !src->is_map()) continue;
    Node* dst = doc.find(top);
    if (!dst || !dst->is_map()) dst = &doc.set(top, Node::make_map(src->mark));
    for (auto& e : src->entries) {
      for (auto& existing : dst->entries)
        if (existing.key == e.key)
          return fail_at(existing.mark, std::string(top) + "." + e.key,
                         "also defined in included file " + file + " (" + from.where() + ")");
      dst->entries.push_back(e);
    }
  }
  return {};
}

}  // namespace

stack::Result<void> resolve_include(Node& document, const LoadFile& load) {
  const Node* inc = document.find("include");
  if (!inc) return {};
  Node includes = *inc;
  document.erase("include");
  for (auto& item : includes.items) {
    std::vector<const Node*> paths;
    std::string project_dir;
    std::vector<std::string> env_files;
    if (item.is_scalar()) {
      paths.push_back(&item);
    } else {
      paths = scalars_of(item.find("path"));
      if (const Node* pd = item.find("project_directory")) project_dir = resolve_path(pd->mark, pd->scalar);
      for (const Node* e : scalars_of(item.find("env_file"))) env_files.push_back(resolve_path(e->mark, e->scalar));
    }
    if (paths.empty()) return fail_at(item.mark, "include", "no path given");
    Node merged;
    for (size_t i = 0; i < paths.size(); ++i) {
      std::string file = resolve_path(paths[i]->mark, paths[i]->scalar);
      std::string base = project_dir.empty()
                             ? std::filesystem::path(resolve_path(paths[0]->mark, paths[0]->scalar)).parent_path().string()
                             : project_dir;
      auto doc = load(FileRequest{file, base, env_files, paths[i]->mark, "include"});
      if (!doc) return tl::unexpected(doc.error());
      if (i == 0) merged = std::move(*doc);
      else merge_documents(merged, *doc);
    }
    auto r = add_resources(document, merged, paths[0]->scalar, item.mark);
    if (!r) return r;
  }
  return {};
}

}  // namespace stack::compose
