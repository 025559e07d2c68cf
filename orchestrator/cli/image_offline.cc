#include "orchestrator/cli/image_offline.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/image/archive_load.h"
#include "runtime/image/image_service.h"
#include "runtime/image/import.h"
#include "runtime/image/progress.h"
#include "runtime/image/registry.h"

namespace stack::cli::offline {

using stack::fail;
using nlohmann::json;

namespace {

Result<img::ImageService> service(const GlobalOptions& g) {
  auto s = img::ImageService::open(g.image_root);
  if (!s) return tl::unexpected(s.error().wrap("open image store " + g.image_root));
  return s;
}

Result<img::RegistryConfig> registry_config(const GlobalOptions& g) {
  img::RegistryConfig c;
  for (auto& m : g.registry_mirrors) {
    auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
      return fail("--registry-mirror " + m + ": expected REGISTRY=URL (docker.io=http://127.0.0.1:5000)");
    c.mirrors[m.substr(0, eq)] = m.substr(eq + 1);
  }
  c.insecure = g.insecure_registries;
  return c;
}

}  // namespace

Result<> cmd_image_ls(const GlobalOptions& g, bool quiet) {
  auto s = service(g);
  if (!s) return tl::unexpected(s.error());
  auto images = s->list();
  if (!images) return tl::unexpected(images.error());
  std::vector<ImageRow> rows;
  for (auto& i : *images) rows.push_back({i.name, i.id, i.created, i.size});
  print_images(rows, quiet);
  return {};
}

Result<> cmd_image_inspect(const GlobalOptions& g, const std::vector<std::string>& names) {
  auto s = service(g);
  if (!s) return tl::unexpected(s.error());
  json out = json::array();
  for (auto& n : names) {
    auto text = s->inspect(n);
    if (!text) return tl::unexpected(text.error());
    out.push_back(json::parse(*text, nullptr, false));
  }
  std::cout << out.dump(4) << "\n";
  return {};
}

Result<> cmd_image_rm(const GlobalOptions& g, const std::vector<std::string>& names) {
  auto s = service(g);
  if (!s) return tl::unexpected(s.error());
  for (auto& n : names) {
    auto rep = s->remove(n);
    if (!rep) return tl::unexpected(rep.error());
    for (auto& u : rep->untagged) std::cout << "Untagged: " << u << "\n";
    for (auto& d : rep->deleted_blobs) std::cout << "Deleted: " << d.string() << "\n";
  }
  return {};
}

Result<> cmd_image_prune(const GlobalOptions& g) {
  auto s = service(g);
  if (!s) return tl::unexpected(s.error());
  auto freed = s->prune();
  if (!freed) return tl::unexpected(freed.error());
  std::cout << "Total reclaimed space: " << img::human_size(*freed) << "\n";
  return {};
}

Result<> cmd_system_df(const GlobalOptions& g) {
  auto s = service(g);
  if (!s) return tl::unexpected(s.error());
  auto images = s->list();
  if (!images) return tl::unexpected(images.error());
  auto du = s->store().disk_usage();
  if (!du) return tl::unexpected(du.error());
  print_disk_usage(images->size(), du->blob_count, du->blobs, du->snapshot_count, du->snapshots);
  return {};
}

Result<> cmd_image_load(const GlobalOptions& g, const std::string& path, bool) {
  auto s = service(g);
  if (!s) return tl::unexpected(s.error());
  auto loaded = img::load_archive(s->store(), path);
  if (!loaded) return tl::unexpected(loaded.error());
  for (auto& i : *loaded) {
    if (i.names.empty())
      std::cout << "Loaded image ID: " << (i.config.hex.empty() ? i.manifest : i.config).string()
                << " (untagged: the next prune removes it)\n";
    for (auto& n : i.names) std::cout << "Loaded image: " << n << "\n";
  }
  return {};
}

Result<> cmd_image_import(const GlobalOptions& g, const std::string& tar, const std::string& name,
                          const std::vector<std::string>& changes) {
  auto s = service(g);
  if (!s) return tl::unexpected(s.error());
  img::ImportOptions o;
  o.changes = changes;
  auto r = img::import_rootfs(s->store(), tar, name, o);
  if (!r) return tl::unexpected(r.error());
  std::cout << r->config.string() << "\n";
  return {};
}

Result<> cmd_image_pull(const GlobalOptions& g, const std::string& name, bool quiet) {
  auto ref = img::parse_reference(name);
  if (!ref) return tl::unexpected(ref.error());
  auto cfg = registry_config(g);
  if (!cfg) return tl::unexpected(cfg.error());
  auto s = service(g);
  if (!s) return tl::unexpected(s.error());
  std::unique_ptr<img::TerminalProgress> progress;
  if (!quiet) progress = std::make_unique<img::TerminalProgress>(1);
  auto d = img::pull(*ref, s->store(), *cfg, progress.get());
  if (!d) return tl::unexpected(d.error());
  // The progress display already printed Docker's "Digest:" and "Status:"
  // lines; like Docker, end with the fully qualified name.
  std::cout << ref->string() << "\n";
  return {};
}

Result<> cmd_image_push(const GlobalOptions& g, const std::string& local, const std::string& remote,
                        bool quiet) {
  auto l = img::parse_reference(local);
  if (!l) return tl::unexpected(l.error());
  auto r = img::parse_reference(remote);
  if (!r) return tl::unexpected(r.error());
  auto cfg = registry_config(g);
  if (!cfg) return tl::unexpected(cfg.error());
  auto s = service(g);
  if (!s) return tl::unexpected(s.error());
  std::unique_ptr<img::TerminalProgress> progress;
  if (!quiet) progress = std::make_unique<img::TerminalProgress>(1);
  auto d = img::push(*l, *r, s->store(), *cfg, progress.get());
  if (!d) return tl::unexpected(d.error());
  std::cout << r->familiar() << ": digest: " << d->string() << "\n";
  return {};
}

void remember_command_line(int, char**) {}  // this build runs the verbs itself

Result<> cmd_login(const GlobalOptions& g, const std::string& host, std::string user, bool password_stdin) {
  auto cfg = registry_config(g);
  if (!cfg) return tl::unexpected(cfg.error());
  if (!password_stdin)
    return fail("login " + host + ": give the password with --password-stdin (interactive prompts are not supported)",
                EINVAL);
  if (user.empty()) return fail("login " + host + ": give the user with -u USER");
  std::string password;
  std::getline(std::cin, password);
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  if (password.empty()) return fail("login " + host + ": empty password on stdin");
  auto ok = img::login(host, user, password, *cfg);
  if (!ok) return tl::unexpected(ok.error());
  std::cout << "Login Succeeded\n";
  return {};
}

}  // namespace stack::cli::offline
