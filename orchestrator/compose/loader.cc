// load_project(): the pipeline described in loader.h.
#include "orchestrator/compose/loader.h"
#include "base/io.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "orchestrator/compose/build.h"
#include "orchestrator/compose/checks.h"
#include "orchestrator/compose/file_objects.h"
#include "orchestrator/compose/env_file.h"
#include "orchestrator/compose/extends.h"
#include "orchestrator/compose/include.h"
#include "orchestrator/compose/merge.h"
#include "orchestrator/compose/normalize.h"
#include "orchestrator/compose/profiles.h"
#include "orchestrator/compose/schema.h"
#include "orchestrator/compose/yaml_source.h"
#include "orchestrator/project_name.h"

namespace stack::compose {

namespace fs = std::filesystem;

std::string Warning::to_string() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  if (!s.empty()) s += ": ";
  if (!path.empty()) s += path + ": ";
  return s + message;
}

const std::vector<std::string>& default_file_names() {
  static const std::vector<std::string> names = {"compose.yaml", "compose.yml", "docker-compose.yaml",
                                                 "docker-compose.yml"};
  return names;
}

namespace {

struct Input {
  std::string text;
  std::shared_ptr<const Source> source;
};

// Well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF): the rule nlohmann's dump() enforces by throwing.
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i += len;
  }
  return true;
}

// Every value ends up in JSON (to_json() is how the CLI hands the project to
// stackd; x-* fields are kept as JSON text), and dump() throws on bytes that
// are not UTF-8. Checked after interpolation: variables are bytes too.
stack::Result<void> check_utf8(const Node& n, const std::string& path) {
  if (n.is_scalar() && !valid_utf8(n.scalar)) return fail_at(n.mark, path, "not valid UTF-8");
  for (size_t i = 0; i < n.items.size(); ++i) STACK_TRY(check_utf8(n.items[i], path + "[" + std::to_string(i) + "]"));
  for (auto& e : n.entries) {
    if (!valid_utf8(e.key)) return fail_at(e.mark, path, "a key is not valid UTF-8");
    STACK_TRY(check_utf8(e.value, path.empty() ? e.key : path + "." + e.key));
  }
  return {};
}

// One load: the environment, the warnings, and the chain of files being read
// (to catch include/extends cycles).
class Pipeline {
 public:
  Pipeline(const LoadOptions& options, std::string project_dir) : options_(options), project_dir_(std::move(project_dir)) {}

  stack::Result<LoadResult> run(const std::vector<Input>& inputs) {
    STACK_TRY(read_dotenv());
    Node merged;
    for (size_t i = 0; i < inputs.size(); ++i) {
      Node doc;
      chain_.clear();
      if (!inputs[i].source->path.empty()) chain_.push_back(inputs[i].source->path);
      STACK_COMPOSE_ASSIGN(doc, document(inputs[i].text, inputs[i].source, lookup_));
      if (i == 0) merged = std::move(doc);
      else merge_documents(merged, doc);
    }
    // Compose refuses a project with nothing in it (an empty file, or only
    // comments, or only the obsolete `version`): most likely the wrong file.
    bool empty = std::all_of(merged.entries.begin(), merged.entries.end(),
                             [](const Entry& e) { return e.key == "version"; });
    if (empty) {
      std::string names;
      for (auto& in : inputs) names += (names.empty() ? "" : ", ") + in.source->display;
      return stack::fail(names + ": empty compose file");
    }
    strip_merge_tags(merged);

    LoadResult result;
    STACK_COMPOSE_ASSIGN(result.project.name, project_name(merged, inputs.front().source));
    std::set<std::string> selected(options_.profiles.begin(), options_.profiles.end());
    if (auto p = lookup_("COMPOSE_PROFILES"))
      for (auto& x : split_profiles(*p)) selected.insert(x);
    std::set<std::string> disabled = apply_profiles(merged, selected);

    std::string name = result.project.name;
    STACK_COMPOSE_ASSIGN(result.project, normalize_project(merged, lookup_, warnings_));
    result.project.name = name;
    for (auto& [sname, s] : result.project.services)
      if (s.image.empty() && s.build) s.image = default_image_name(name, sname);
    STACK_TRY(check_project(result.project, merged, disabled, warnings_));
    STACK_TRY(read_file_objects(result.project, merged, lookup_, options_.read_file_data));
    result.project.working_dir = project_dir_;
    for (auto& in : inputs)
      if (!in.source->path.empty()) result.project.files.push_back(in.source->path);
    // env_file contents and paths never were tree scalars: the same check, whole.
    try {
      (void)to_json(result.project);
    } catch (const std::exception& e) {
      return stack::fail(std::string("a value from an env_file or a path is not valid UTF-8: ") + e.what(), EINVAL);
    }
    result.warnings = std::move(warnings_);
    return result;
  }

 private:
  // .env (or --env-file) under the caller's environment, which wins.
  stack::Result<void> read_dotenv() {
    std::vector<std::string> files;
    for (auto& f : options_.env_files) files.push_back(fs::absolute(fs::path(working_dir()) / f).lexically_normal());
    if (files.empty() && fs::exists(fs::path(project_dir_) / ".env")) files.push_back(project_dir_ + "/.env");
    for (auto& f : files) {
      Lookup outer = [&](const std::string& k) -> std::optional<std::string> {
        if (auto it = options_.environment.find(k); it != options_.environment.end()) return it->second;
        if (auto it = dotenv_.find(k); it != dotenv_.end()) return it->second;
        return std::nullopt;
      };
      auto vars = read_env_file(f, f, outer);
      if (!vars) return tl::unexpected(vars.error().wrap("env file"));
      for (auto& [k, v] : *vars) dotenv_[k] = v;
    }
    return {};
  }

  std::string working_dir() const { return options_.working_dir.empty() ? fs::current_path().string() : options_.working_dir; }

  // Read, interpolate, validate, canonicalize, then resolve extends and include.
  stack::Result<Node> document(const std::string& text, std::shared_ptr<const Source> source, const Lookup& lookup) {
    Node doc;
    STACK_COMPOSE_ASSIGN(doc, parse_yaml(text, source));
    if (!doc.is_map()) return fail_at(doc.mark, "", "a Compose file must be a mapping");
    std::vector<UnsetVariable> unset;
    STACK_TRY(interpolate_tree(doc, lookup, &unset));
    STACK_TRY(check_utf8(doc, ""));
    for (auto& u : unset)
      if (warned_vars_.insert(u.name).second)
        add_warning(warnings_, u.mark, u.path, "the \"" + u.name + "\" variable is not set, defaulting to a blank string");
    auto errors = validate_schema(doc);
    if (!errors.empty()) {
      std::string msg;
      for (size_t i = 0; i < errors.size() && i < 10; ++i) msg += (i ? "\n" : "") + errors[i].to_string();
      if (errors.size() > 10) msg += "\n(" + std::to_string(errors.size() - 10) + " more errors)";
      return stack::fail(msg);
    }
    canonicalize(doc);
    LoadFile load = [&](const FileRequest& r) { return load_other(r, lookup); };
    STACK_TRY(resolve_extends(doc, load));
    STACK_TRY(resolve_include(doc, load));
    return doc;
  }

  // See documents.h: failures name where the file was asked for, once; a
  // cycle is reported where it closes and passed up unwrapped.
  stack::Result<Node> load_other(const FileRequest& r, const Lookup& parent) {
    std::string from = r.from.where() + ": " + r.what;
    if (std::find(chain_.begin(), chain_.end(), r.path) != chain_.end()) {
      std::string files;
      for (auto& c : chain_) files += display(c) + " -> ";
      in_cycle_ = true;
      return fail_at(r.from, "", (r.what == "include" ? "include" : "extends") + std::string(" cycle: ") + files +
                                     display(r.path));
    }
    auto text = io::read_file(r.path);
    if (!text) return tl::unexpected(text.error().wrap(from));
    std::map<std::string, std::string> extra;
    for (auto& f : r.env_files) {
      auto vars = read_env_file(f, f, parent);
      if (!vars) return tl::unexpected(vars.error().wrap(from + ": env file"));
      for (auto& [k, v] : *vars) extra[k] = v;
    }
    Lookup lookup = [parent, extra](const std::string& k) -> std::optional<std::string> {
      if (auto v = parent(k)) return v;
      if (auto it = extra.find(k); it != extra.end()) return it->second;
      return std::nullopt;
    };
    auto source = std::make_shared<Source>(Source{display(r.path), r.path, r.base_dir});
    chain_.push_back(r.path);
    auto doc = document(*text, source, lookup);
    chain_.pop_back();
    if (!doc && !in_cycle_) return tl::unexpected(doc.error().wrap(from));
    return doc;
  }

  std::string display(const std::string& abs) const {
    auto rel = fs::path(abs).lexically_relative(working_dir());
    if (rel.empty() || rel.string().rfind("..", 0) == 0) return abs;
    return rel.string();
  }

  stack::Result<std::string> project_name(const Node& doc, const std::shared_ptr<const Source>& first) {
    std::string raw;
    std::string what;
    if (const Node* n = doc.find("name"); n && n->is_scalar() && !n->scalar.empty()) {
      raw = n->scalar;
      what = "top-level name";
    } else if (!options_.project_name.empty()) {
      raw = options_.project_name;
      what = "-p";
    } else if (auto env = lookup_("COMPOSE_PROJECT_NAME"); env && !env->empty()) {
      raw = *env;
      what = "COMPOSE_PROJECT_NAME";
    } else {
      std::string file = first->path.empty() ? first->display : first->path;
      std::string base = fs::path(file).filename().string();
      bool default_name = false;
      for (auto& d : default_file_names()) {
        auto stem = fs::path(d).stem().string(), ext = fs::path(d).extension().string();
        if (base == d || base == stem + ".override" + ext) default_name = true;
      }
      // compose.yaml names the stack after its directory, as Compose does;
      // juice-shop.yaml names it juice-shop.
      if (default_name) raw = fs::path(project_dir_).filename().string();
      else raw = fs::path(file).stem().string();
      what = "the file name";
    }
    auto name = orch::normalize_project_name(raw);
    if (!name) return stack::fail("project name \"" + raw + "\" (from " + what + ") has no valid characters [a-z0-9_-]");
    return *name;
  }

  const LoadOptions& options_;
  std::string project_dir_;
  std::map<std::string, std::string> dotenv_;
  std::vector<Warning> warnings_;
  std::set<std::string> warned_vars_;
  std::vector<std::string> chain_;  // absolute paths: the -f file, then what it includes/extends, in order
  bool in_cycle_ = false;           // the error on its way up is a cycle, already located
  Lookup lookup_ = [this](const std::string& k) -> std::optional<std::string> {
    if (auto it = options_.environment.find(k); it != options_.environment.end()) return it->second;
    if (auto it = dotenv_.find(k); it != dotenv_.end()) return it->second;
    return std::nullopt;
  };
};

// The default files in `dir`: the first of default_file_names() plus its
// matching override file.
stack::Result<std::vector<std::string>> default_files(const std::string& dir) {
  for (auto& name : default_file_names()) {
    fs::path p = fs::path(dir) / name;
    if (!fs::exists(p)) continue;
    std::vector<std::string> out{p.string()};
    fs::path over = fs::path(dir) / (p.stem().string() + ".override" + p.extension().string());
    if (fs::exists(over)) out.push_back(over.string());
    return out;
  }
  std::string tried;
  for (auto& n : default_file_names()) tried += (tried.empty() ? "" : ", ") + n;
  return stack::fail("no stack file given and none found in " + dir + " (tried " + tried + ")");
}

}  // namespace

stack::Result<LoadResult> load_project(const LoadOptions& options) {
  std::string wd = options.working_dir.empty() ? fs::current_path().string() : options.working_dir;
  std::vector<std::string> files = options.files;
  if (files.empty()) STACK_COMPOSE_ASSIGN(files, default_files(wd));
  std::vector<Input> inputs;
  std::string project_dir;
  for (auto& f : files) {
    std::string abs = fs::absolute(fs::path(wd) / f).lexically_normal().string();
    if (project_dir.empty()) project_dir = fs::path(abs).parent_path().string();
    auto text = io::read_file(abs);
    if (!text) return tl::unexpected(text.error());
    bool given = !options.files.empty();
    std::string shown = given ? f : fs::path(abs).filename().string();
    inputs.push_back(Input{*text, std::make_shared<Source>(Source{shown, abs, project_dir})});
  }
  return Pipeline(options, project_dir).run(inputs);
}

stack::Result<LoadResult> load_project_from_string(const std::string& yaml, const std::string& file_name,
                                                const LoadOptions& options) {
  std::string wd = options.working_dir.empty() ? fs::current_path().string() : options.working_dir;
  auto source = std::make_shared<Source>(Source{file_name, "", wd});
  return Pipeline(options, wd).run({Input{yaml, source}});
}

}  // namespace stack::compose
