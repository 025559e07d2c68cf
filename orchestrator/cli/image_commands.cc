// The image verbs over stackd's API (docs/api.md, "Images"), printing what
// Docker prints; with --image-root they run on that store instead, in the
// `stack-image` build of this CLI (image_offline.h).
#include "orchestrator/cli/image_commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "orchestrator/cli/image_offline.h"
#include "orchestrator/api/image_json.h"
#include "runtime/image/progress.h"

namespace stack::cli {

using nlohmann::json;
using stack::fail;

namespace {

Result<ApiClient> daemon(const GlobalOptions& g) {
  static const ClientOptions defaults;
  return ApiClient::connect(g.client ? *g.client : defaults);
}

// Registry settings are stackd's (stackd --registry-mirror ...) when it
// pulls: a client must not point the daemon's pulls elsewhere.
Result<> no_registry_flags(const GlobalOptions& g, const std::string& verb) {
  if (g.registry_mirrors.empty() && g.insecure_registries.empty()) return {};
  return fail(verb + ": --registry-mirror and --insecure-registry apply with --image-root; stackd pulls with "
                     "its own (stackd --registry-mirror, --insecure-registry)");
}

// "demo:1" -> ("demo", "1"); "a@sha256:.." -> ("a", "<none>").
std::pair<std::string, std::string> repo_tag(const std::string& familiar) {
  auto at = familiar.find('@');
  if (at != std::string::npos) return {familiar.substr(0, at), "<none>"};
  auto colon = familiar.rfind(':');
  auto slash = familiar.rfind('/');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return {familiar, "latest"};
  return {familiar.substr(0, colon), familiar.substr(colon + 1)};
}

std::string pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

std::string q(const std::string& key, const std::string& value) { return key + "=" + url_escape(value); }

// What an upload reads from: the file, standard input, or the stdout of a
// `tar` of an OCI layout directory (the daemon loads a tar of one too).
class ArchiveSource {
 public:
  static Result<ArchiveSource> open(const std::string& path) {
    ArchiveSource a;
    if (path == "-") {
      a.fd_.reset(::dup(STDIN_FILENO));
      if (!a.fd_) return stack::fail_errno("read the archive from stdin");
      return a;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return stack::fail_errno("load " + path);
    if (!S_ISDIR(st.st_mode)) {
      a.fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!a.fd_) return stack::fail_errno("load " + path);
      return a;
    }
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return stack::fail_errno("pipe");
    stack::UniqueFd rd(p[0]), wr(p[1]);
    a.tar_ = ::fork();
    if (a.tar_ < 0) return stack::fail_errno("fork tar");
    if (a.tar_ == 0) {
      ::dup2(wr.get(), STDOUT_FILENO);
      ::execlp("tar", "tar", "-C", path.c_str(), "-cf", "-", ".", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    a.fd_ = std::move(rd);
    a.what_ = path;
    return a;
  }
  ArchiveSource() = default;
  ArchiveSource(ArchiveSource&& o) noexcept : fd_(std::move(o.fd_)), tar_(std::exchange(o.tar_, -1)), what_(o.what_) {}
  ArchiveSource& operator=(ArchiveSource&&) = delete;
  ~ArchiveSource() { (void)finish(); }

  int fd() const { return fd_.get(); }
  // Waits for the tar (if any); its failure is the load's.
  Result<> finish() {
    fd_.reset();  // a tar still writing sees EPIPE
    if (tar_ <= 0) return {};
    int status = 0;
    while (::waitpid(tar_, &status, 0) < 0 && errno == EINTR) {
    }
    tar_ = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail("load " + what_ + ": tar of the directory failed");
    return {};
  }

 private:
  stack::UniqueFd fd_;
  pid_t tar_ = -1;
  std::string what_;
};

// A pull or push: progress lines rendered as Docker does (unless quiet);
// the last line (`done_key`) is returned.
Result<json> transfer(const ApiClient& client, const std::string& target, const std::string& done_key, bool quiet) {
  std::unique_ptr<img::TerminalProgress> progress;
  if (!quiet) progress = std::make_unique<img::TerminalProgress>(STDOUT_FILENO);
  json done;
  auto r = client.post_stream(target, [&](const json& line) {
    if (line.contains(done_key)) {
      done = line;
      return true;
    }
    if (auto e = orch::progress_from_json(line); e && progress) progress->event(*e);
    return true;
  });
  if (!r) return tl::unexpected(r.error());
  if (done.is_null()) return fail("stackd ended the stream before the " + done_key.substr(0, 4) + " finished");
  return done;
}

}  // namespace

void print_images(const std::vector<ImageRow>& rows, bool quiet) {
  if (quiet) {
    for (auto& i : rows) std::cout << i.id << "\n";
    return;
  }
  size_t rw = 10, tw = 3;
  for (auto& i : rows) {
    auto [r, t] = repo_tag(i.name);
    rw = std::max(rw, r.size());
    tw = std::max(tw, t.size());
  }
  std::cout << pad("REPOSITORY", rw + 3) << pad("TAG", tw + 3) << pad("IMAGE ID", 15) << pad("CREATED", 23)
            << "SIZE\n";
  for (auto& i : rows) {
    auto [r, t] = repo_tag(i.name);
    std::cout << pad(r, rw + 3) << pad(t, tw + 3) << pad(i.id, 15) << pad(i.created.empty() ? "N/A" : i.created, 23)
              << img::human_size(i.size) << "\n";
  }
}

void print_disk_usage(size_t images, size_t blob_count, uint64_t blobs, size_t snapshot_count, uint64_t snapshots) {
  // Docker's `system df` columns, for the parts of the store we have.
  std::cout << pad("TYPE", 16) << pad("COUNT", 8) << "SIZE\n";
  std::cout << pad("Images", 16) << pad(std::to_string(images), 8) << "\n";
  std::cout << pad("Blobs", 16) << pad(std::to_string(blob_count), 8) << img::human_size(blobs) << "\n";
  std::cout << pad("Layer snapshots", 16) << pad(std::to_string(snapshot_count), 8) << img::human_size(snapshots)
            << "\n";
}

Result<> cmd_image_ls(const GlobalOptions& g, bool quiet) {
  if (!g.image_root.empty()) return offline::cmd_image_ls(g, quiet);
  auto client = daemon(g);
  if (!client) return tl::unexpected(client.error());
  auto v = client->call("GET", "/v1/images");
  if (!v) return tl::unexpected(v.error());
  std::vector<ImageRow> rows;
  for (auto& i : *v)
    rows.push_back({i.value("name", ""), i.value("id", ""), i.value("created", ""), i.value("size", uint64_t{0})});
  print_images(rows, quiet);
  return {};
}

Result<> cmd_image_inspect(const GlobalOptions& g, const std::vector<std::string>& names) {
  if (!g.image_root.empty()) return offline::cmd_image_inspect(g, names);
  auto client = daemon(g);
  if (!client) return tl::unexpected(client.error());
  json out = json::array();
  for (auto& n : names) {
    auto v = client->call("GET", "/v1/images/inspect?" + q("name", n));
    if (!v) return tl::unexpected(v.error());
    out.push_back(*v);
  }
  std::cout << out.dump(4) << "\n";
  return {};
}

Result<> cmd_image_rm(const GlobalOptions& g, const std::vector<std::string>& names) {
  if (!g.image_root.empty()) return offline::cmd_image_rm(g, names);
  auto client = daemon(g);
  if (!client) return tl::unexpected(client.error());
  for (auto& n : names) {
    auto v = client->call("POST", "/v1/images/remove?" + q("name", n), json::object());
    if (!v) return tl::unexpected(v.error());
    for (auto& u : v->value("untagged", json::array())) std::cout << "Untagged: " << u.get<std::string>() << "\n";
    for (auto& d : v->value("deleted", json::array())) std::cout << "Deleted: " << d.get<std::string>() << "\n";
  }
  return {};
}

Result<> cmd_image_prune(const GlobalOptions& g) {
  if (!g.image_root.empty()) return offline::cmd_image_prune(g);
  auto client = daemon(g);
  if (!client) return tl::unexpected(client.error());
  auto v = client->call("POST", "/v1/images/prune", json::object());
  if (!v) return tl::unexpected(v.error());
  std::cout << "Total reclaimed space: " << img::human_size(v->value("reclaimed", uint64_t{0})) << "\n";
  return {};
}

Result<> cmd_system_df(const GlobalOptions& g) {
  if (!g.image_root.empty()) return offline::cmd_system_df(g);
  auto client = daemon(g);
  if (!client) return tl::unexpected(client.error());
  auto v = client->call("GET", "/v1/images/df");
  if (!v) return tl::unexpected(v.error());
  print_disk_usage(v->value("images", size_t{0}), v->value("blob_count", size_t{0}), v->value("blobs", uint64_t{0}),
                   v->value("snapshot_count", size_t{0}), v->value("snapshots", uint64_t{0}));
  return {};
}

Result<> cmd_image_load(const GlobalOptions& g, const std::string& path, bool quiet) {
  if (!g.image_root.empty()) return offline::cmd_image_load(g, path, quiet);
  // The archive is checked before the daemon is reached (or started).
  auto source = ArchiveSource::open(path);
  if (!source) return tl::unexpected(source.error());
  auto client = daemon(g);
  if (!client) return tl::unexpected(client.error());
  auto v = client->upload("/v1/images/load", source->fd());
  auto tar = source->finish();
  if (!v) return tl::unexpected(v.error());
  if (!tar) return tl::unexpected(tar.error());
  for (auto& i : v->value("images", json::array())) {
    auto names = i.value("names", std::vector<std::string>{});
    if (names.empty())
      std::cout << "Loaded image ID: " << i.value("id", "") << " (untagged: the next prune removes it)\n";
    for (auto& n : names) std::cout << "Loaded image: " << n << "\n";
  }
  return {};
}

Result<> cmd_image_import(const GlobalOptions& g, const std::string& tar, const std::string& name,
                          const std::vector<std::string>& changes) {
  if (!g.image_root.empty()) return offline::cmd_image_import(g, tar, name, changes);
  stack::UniqueFd fd(::open(tar.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return stack::fail_errno("import " + tar);
  auto client = daemon(g);
  if (!client) return tl::unexpected(client.error());
  std::string target = "/v1/images/import?" + q("name", name);
  for (auto& c : changes) target += "&" + q("change", c);
  auto v = client->upload(target, fd.get());
  if (!v) return tl::unexpected(v.error());
  std::cout << v->value("id", "") << "\n";
  return {};
}

Result<> cmd_image_pull(const GlobalOptions& g, const std::string& name, bool quiet) {
  if (!g.image_root.empty()) return offline::cmd_image_pull(g, name, quiet);
  STACK_TRY(no_registry_flags(g, "pull"));
  auto client = daemon(g);
  if (!client) return tl::unexpected(client.error());
  auto done = transfer(*client, "/v1/images/pull?" + q("name", name), "pulled", quiet);
  if (!done) return tl::unexpected(done.error());
  // The progress display already printed Docker's "Digest:" and "Status:"
  // lines; like Docker, end with the fully qualified name.
  std::cout << done->value("pulled", name) << "\n";
  return {};
}

Result<> cmd_image_push(const GlobalOptions& g, const std::string& local, const std::string& remote,
                        bool quiet) {
  if (!g.image_root.empty()) return offline::cmd_image_push(g, local, remote, quiet);
  STACK_TRY(no_registry_flags(g, "push"));
  auto client = daemon(g);
  if (!client) return tl::unexpected(client.error());
  auto done = transfer(*client, "/v1/images/push?" + q("name", local) + "&" + q("remote", remote), "pushed", quiet);
  if (!done) return tl::unexpected(done.error());
  std::cout << done->value("pushed", remote) << ": digest: " << done->value("digest", "") << "\n";
  return {};
}

}  // namespace stack::cli
