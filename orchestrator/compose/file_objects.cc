#include "orchestrator/compose/file_objects.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "base/io.h"
#include "orchestrator/compose/normalize.h"

namespace stack::compose {

namespace {

const char* kind_of(bool secret) { return secret ? "secret" : "config"; }
const char* section_of(bool secret) { return secret ? "secrets" : "configs"; }

// Where a node of the merged document is, or an empty mark when the path is
// not there (a project built in code).
Mark mark_of(const Node& document, std::initializer_list<std::string> keys, std::optional<size_t> item = {}) {
  const Node* n = &document;
  for (const auto& k : keys) {
    n = n->is_map() ? n->find(k) : nullptr;
    if (!n) return {};
  }
  if (item) {
    if (!n->is_seq() || *item >= n->items.size()) return n->mark;
    n = &n->items[*item];
  }
  return n->mark;
}

stack::Result<std::string> read_source_file(const std::string& path, size_t limit, const Mark& m,
                                         const std::string& field) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail_at(m, field, path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return fail_at(m, field, path + ": not a regular file");
  if (static_cast<size_t>(st.st_size) > limit)
    return fail_at(m, field, path + " is " + std::to_string(st.st_size) + " bytes; at most " +
                                 std::to_string(limit) + " are allowed");
  auto data = io::read_file(path);
  if (!data) return fail_at(m, field, path + ": " + data.error().message());
  if (data->size() > limit) return fail_at(m, field, path + " grew past " + std::to_string(limit) + " bytes");
  return data;
}

stack::Result<void> read_definition(ConfigOrSecretDef& d, bool secret, const Node& document, const Lookup& env) {
  const std::string section = section_of(secret);
  const std::string path = section + "." + d.name;
  const size_t limit = secret ? kMaxSecretBytes : kMaxConfigBytes;
  if (d.external)
    return fail_at(mark_of(document, {section, d.name, "external"}), path + ".external",
                   std::string("external ") + section + " are not supported: stack keeps no " + section +
                       " of its own; give it a file:, environment: or content:");
  if (!d.file.empty()) {
    STACK_COMPOSE_ASSIGN(d.data, read_source_file(d.file, limit, mark_of(document, {section, d.name, "file"}),
                                                   path + ".file"));
  } else if (!d.environment.empty()) {
    Mark m = mark_of(document, {section, d.name, "environment"});
    auto v = env(d.environment);
    if (!v) return fail_at(m, path + ".environment", "variable \"" + d.environment + "\" is not set");
    if (v->size() > limit)
      return fail_at(m, path + ".environment", "variable \"" + d.environment + "\" holds more than " +
                                                   std::to_string(limit) + " bytes");
    d.data = *v;
  } else if (!d.content.empty() || mark_of(document, {section, d.name, "content"}).source) {
    if (d.content.size() > limit)
      return fail_at(mark_of(document, {section, d.name, "content"}), path + ".content",
                     "more than " + std::to_string(limit) + " bytes");
    d.data = d.content;
  } else {
    return fail_at(mark_of(document, {section, d.name}), path, "needs one of file:, environment: or content:");
  }
  return {};
}

std::optional<uint32_t> parse_id(const std::string& s) {
  if (s.empty()) return 0;
  if (s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  unsigned long long v = std::stoull(s);
  if (v > 0xfffffffeull) return std::nullopt;  // (uid_t)-1 means "unchanged" to chown
  return static_cast<uint32_t>(v);
}

// The absolute path a reference mounts at, or "" when its target is not a
// plain path (".." or "." components, a trailing slash, or the root itself).
std::string target_of(const SecretRef& r, bool secret) {
  std::string t = r.target.empty() ? r.source : r.target;
  if (t.empty()) return "";
  if (t[0] != '/') t = (secret ? "/run/secrets/" : "/") + t;
  std::filesystem::path p(t);
  if (p.lexically_normal().string() != t || t == "/" || t.back() == '/') return "";
  for (const auto& c : p)
    if (c == "..") return "";
  return t;
}

// One reference as a file; the error's message names the field below the
// reference ("target: ...") and `field` is set to it.
stack::Result<ResolvedFile> resolve_ref(const std::map<std::string, ConfigOrSecretDef>& defs, const SecretRef& r,
                                        bool secret, bool need_data, std::string& field) {
  field.clear();
  auto d = defs.find(r.source);
  if (d == defs.end()) return stack::fail(std::string("undefined ") + kind_of(secret) + " \"" + r.source + "\"");
  ResolvedFile f;
  f.secret = secret;
  f.name = r.source;
  f.target = target_of(r, secret);
  field = "target";
  if (f.target.empty()) return stack::fail("\"" + r.target + "\" is not a plain file path");
  auto uid = parse_id(r.uid);
  field = "uid";
  if (!uid) return stack::fail("\"" + r.uid + "\" is not a numeric user id");
  auto gid = parse_id(r.gid);
  field = "gid";
  if (!gid) return stack::fail("\"" + r.gid + "\" is not a numeric group id");
  field.clear();
  if (!d->second.data && need_data)
    return stack::fail(std::string(kind_of(secret)) + " \"" + r.source +
                           "\" came without its data (sent by a stack CLI older than stackd?)");
  f.uid = *uid;
  f.gid = *gid;
  f.mode = r.mode.value_or(0444);
  if (d->second.data) f.data = *d->second.data;
  return f;
}

// Every reference of `service`, each passed to `on_error(secret, index,
// field, message)` when it fails; the first failure ends the walk.
template <class OnError>
stack::Result<std::vector<ResolvedFile>> walk_refs(const Project& project, const Service& service, bool need_data,
                                                   OnError on_error) {
  std::vector<ResolvedFile> out;
  std::set<std::string> targets;
  for (bool secret : {true, false}) {
    const auto& refs = secret ? service.secrets : service.configs;
    const auto& defs = secret ? project.secrets : project.configs;
    for (size_t i = 0; i < refs.size(); ++i) {
      std::string field;
      auto f = resolve_ref(defs, refs[i], secret, need_data, field);
      if (!f) return on_error(secret, i, field, f.error().message());
      if (!targets.insert(f->target).second)
        return on_error(secret, i, "target", f->target + " is the target of another secret or config");
      out.push_back(std::move(*f));
    }
  }
  return out;
}

std::string ref_path(const Service& service, bool secret, size_t i, const std::string& field) {
  std::string p = item_path("services." + service.name + "." + section_of(secret), i);
  return field.empty() ? p : p + "." + field;
}

}  // namespace

stack::Result<void> read_file_objects(Project& project, const Node& document, const Lookup& env, bool read_data) {
  // References first (an undefined name or a bad target is the file's
  // error wherever the data would come from), then the data of what is used.
  std::set<std::string> used[2];
  for (const auto& entry : project.services) {
    const std::string& sname = entry.first;  // named, not bound: lambdas capture them
    const Service& s = entry.second;
    auto files = walk_refs(project, s, false, [&](bool secret, size_t i, const std::string& field, const std::string& msg)
                                                  -> stack::Result<std::vector<ResolvedFile>> {
      return fail_at(mark_of(document, {"services", sname, section_of(secret)}, i), ref_path(s, secret, i, field), msg);
    });
    if (!files) return tl::unexpected(files.error());
    for (const auto& r : s.secrets) used[0].insert(r.source);
    for (const auto& r : s.configs) used[1].insert(r.source);
  }
  if (!read_data) return {};
  for (const auto& name : used[0]) STACK_TRY(read_definition(project.secrets.at(name), true, document, env));
  for (const auto& name : used[1]) STACK_TRY(read_definition(project.configs.at(name), false, document, env));
  return {};
}

stack::Result<std::vector<ResolvedFile>> service_files(const Project& project, const Service& service) {
  return walk_refs(project, service, true, [&](bool secret, size_t i, const std::string& field, const std::string& msg)
                                         -> stack::Result<std::vector<ResolvedFile>> {
    return stack::fail(ref_path(service, secret, i, field) + ": " + msg);
  });
}

Project without_file_data(Project project) {
  for (auto* defs : {&project.secrets, &project.configs})
    for (auto& [name, d] : *defs) d.data.reset();
  return project;
}

}  // namespace stack::compose
