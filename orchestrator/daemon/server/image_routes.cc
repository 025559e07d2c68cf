#include "orchestrator/daemon/server/image_routes.h"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "orchestrator/api/image_json.h"
#include "runtime/image/archive_load.h"
#include "runtime/image/image_service.h"
#include "runtime/image/import.h"
#include "runtime/image/registry.h"

namespace stack::orch {

using nlohmann::json;

namespace {

// Names and log text need not be UTF-8: replace bad bytes rather than throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Streams a transfer's progress as lines. The registry client calls event()
// from its worker threads; the responder is not thread-safe, hence the lock.
// Byte counts are sent at most every 100 ms per blob (the CLI redraws from
// them; every state change still goes out).
class StreamedProgress : public img::ProgressSink {
 public:
  explicit StreamedProgress(ApiResponder& out) : out_(out) {}
  void event(const img::ProgressEvent& e) override {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (e.state == img::ProgressEvent::State::Downloading || e.state == img::ProgressEvent::State::Uploading) {
      auto& last = sent_[e.id];
      bool finished = e.total >= 0 && e.done >= static_cast<uint64_t>(e.total);
      if (!finished && now - last < std::chrono::milliseconds(100)) return;
      last = now;
    }
    out_.write_line(dump(progress_to_json(e)));  // a client gone: the transfer still completes
  }

 private:
  std::mutex mu_;
  ApiResponder& out_;
  std::map<std::string, std::chrono::steady_clock::time_point> sent_;
};

struct ImageCall {
  const ServerInfo& info;
  const ApiRequest& req;
  ApiResponder& out;

  void fail(int status, const std::string& message) { out.reply(status, dump(json{{"error", message}})); }
  // Image errors without an errno are about the request's input (an archive
  // that does not verify, a reference, what a registry answered): 400.
  void fail(const stack::Error& e) { fail(e.code == 0 ? 400 : status_for(e), e.message()); }
  void ok(const json& body) { out.reply(200, dump(body)); }

  bool query_known(const std::vector<std::string>& allowed) {
    std::string k = req.unknown_query_key(allowed);
    if (!k.empty()) fail(400, "unknown query parameter \"" + k + "\"");
    return k.empty();
  }
  std::string query(const std::string& key) const { return req.query_value(key); }
  // A required `name`-like query value.
  bool required(const std::string& key, std::string& value) {
    value = query(key);
    if (!value.empty()) return true;
    fail(400, "query parameter \"" + key + "\": required");
    return false;
  }

  std::optional<img::ImageService> store() {
    auto s = img::ImageService::open(info.image_root.empty() ? img::kDefaultImageRoot : info.image_root);
    if (!s) {
      fail(500, s.error().wrap("open image store").message());
      return std::nullopt;
    }
    return std::move(*s);
  }

  stack::Result<img::RegistryConfig> registries() const {
    img::RegistryConfig c;
    for (auto& m : info.registry_mirrors) {
      auto eq = m.find('=');
      if (eq == std::string::npos) return stack::fail("registry mirror " + m + ": expected REGISTRY=URL", EINVAL);
      c.mirrors[m.substr(0, eq)] = m.substr(eq + 1);
    }
    c.insecure = info.insecure_registries;
    return c;
  }

  void list() {
    if (!query_known({})) return;
    auto s = store();
    if (!s) return;
    auto images = s->list();
    if (!images) return fail(images.error());
    json arr = json::array();
    for (auto& i : *images)
      arr.push_back({{"name", i.name}, {"id", i.id}, {"digest", i.manifest.string()}, {"size", i.size},
                     {"created", i.created}});
    ok(arr);
  }

  void inspect() {
    std::string name;
    if (!query_known({"name"}) || !required("name", name)) return;
    auto s = store();
    if (!s) return;
    auto text = s->inspect(name);
    if (!text) return fail(text.error());
    out.reply(200, *text);
  }

  void df() {
    if (!query_known({})) return;
    auto s = store();
    if (!s) return;
    auto images = s->list();
    if (!images) return fail(images.error());
    auto du = s->store().disk_usage();
    if (!du) return fail(du.error());
    ok({{"images", images->size()}, {"blobs", du->blobs}, {"blob_count", du->blob_count},
        {"snapshots", du->snapshots}, {"snapshot_count", du->snapshot_count}});
  }

  void remove() {
    std::string name;
    if (!query_known({"name"}) || !required("name", name)) return;
    auto s = store();
    if (!s) return;
    auto rep = s->remove(name);
    if (!rep) return fail(rep.error());
    json deleted = json::array();
    for (auto& d : rep->deleted_blobs) deleted.push_back(d.string());
    ok({{"untagged", rep->untagged}, {"deleted", deleted}});
  }

  void prune() {
    if (!query_known({})) return;
    auto s = store();
    if (!s) return;
    auto freed = s->prune();
    if (!freed) return fail(freed.error());
    ok({{"reclaimed", *freed}});
  }

  bool has_upload() {
    if (!req.body_file.empty()) return true;
    fail(400, "request body: expected the archive");
    return false;
  }

  void load() {
    if (!query_known({}) || !has_upload()) return;
    auto s = store();
    if (!s) return;
    auto loaded = img::load_archive(s->store(), req.body_file);
    if (!loaded) return fail(loaded.error().wrap("load"));
    json arr = json::array();
    for (auto& i : *loaded)
      arr.push_back({{"names", i.names},
                     {"manifest", i.manifest.string()},
                     {"id", (i.config.hex.empty() ? i.manifest : i.config).string()}});
    ok({{"images", arr}});
  }

  void import() {
    std::string name;
    if (!query_known({"name", "change"}) || !required("name", name) || !has_upload()) return;
    img::ImportOptions o;
    for (auto [a, b] = req.query.equal_range("change"); a != b; ++a) o.changes.push_back(a->second);
    auto s = store();
    if (!s) return;
    auto r = img::import_rootfs(s->store(), req.body_file, name, o);
    if (!r) return fail(r.error());
    ok({{"name", r->ref.familiar()}, {"id", r->config.string()}});
  }

  // pull and push: everything that can be refused is checked before the
  // stream starts (a status code); the transfer's own failure is the
  // stream's last line, {"error": ...}.
  void pull() {
    std::string name;
    if (!query_known({"name"}) || !required("name", name)) return;
    auto ref = img::parse_reference(name);
    if (!ref) return fail(400, ref.error().message());
    auto cfg = registries();
    if (!cfg) return fail(cfg.error());
    auto s = store();
    if (!s) return;
    out.start_stream();
    StreamedProgress progress(out);
    auto d = img::pull(*ref, s->store(), *cfg, &progress);
    if (!d) {
      out.write_line(dump(json{{"error", d.error().message()}}));
      return;
    }
    out.write_line(dump(json{{"pulled", ref->string()}, {"digest", d->string()}}));
  }

  void push() {
    std::string name;
    if (!query_known({"name", "remote"}) || !required("name", name)) return;
    std::string remote_name = query("remote").empty() ? name : query("remote");
    auto local = img::parse_reference(name);
    if (!local) return fail(400, local.error().message());
    auto remote = img::parse_reference(remote_name);
    if (!remote) return fail(400, remote.error().message());
    auto cfg = registries();
    if (!cfg) return fail(cfg.error());
    auto s = store();
    if (!s) return;
    if (auto has = s->resolve(name); !has) return fail(has.error());
    out.start_stream();
    StreamedProgress progress(out);
    auto d = img::push(*local, *remote, s->store(), *cfg, &progress);
    if (!d) {
      out.write_line(dump(json{{"error", d.error().message()}}));
      return;
    }
    out.write_line(dump(json{{"pushed", remote->familiar()}, {"digest", d->string()}}));
  }

  void route() {
    const std::string& m = req.method;
    const std::string& p = req.path;
    if (p == "/v1/images" || p == "/v1/images/") {
      if (m == "GET") return list();
      return fail(405, "method " + m + " not allowed on " + p);
    }
    static const std::vector<std::string> gets = {"/v1/images/inspect", "/v1/images/df"};
    static const std::vector<std::string> posts = {"/v1/images/load", "/v1/images/import", "/v1/images/pull",
                                                   "/v1/images/push", "/v1/images/remove", "/v1/images/prune"};
    bool is_get = std::find(gets.begin(), gets.end(), p) != gets.end();
    bool is_post = std::find(posts.begin(), posts.end(), p) != posts.end();
    if (!is_get && !is_post) return fail(404, "no such endpoint: " + m + " " + p);
    if (m != (is_get ? "GET" : "POST")) return fail(405, "method " + m + " not allowed on " + p);
    if (p == "/v1/images/inspect") return inspect();
    if (p == "/v1/images/df") return df();
    if (p == "/v1/images/load") return load();
    if (p == "/v1/images/import") return import();
    if (p == "/v1/images/pull") return pull();
    if (p == "/v1/images/push") return push();
    if (p == "/v1/images/remove") return remove();
    prune();
  }
};

}  // namespace

bool is_upload_route(const std::string& method, const std::string& path) {
  return method == "POST" && (path == "/v1/images/load" || path == "/v1/images/import");
}

void handle_image_request(const ServerInfo& info, const ApiRequest& request, ApiResponder& out) {
  ImageCall{info, request, out}.route();
}

}  // namespace stack::orch
