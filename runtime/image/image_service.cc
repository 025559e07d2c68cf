#include "runtime/image/image_service.h"

#include <optional>
#include <thread>

#include <algorithm>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "base/parallel.h"
#include "runtime/image/unpack.h"

namespace stack::img {

using stack::fail;
using stack::fail_errno;

using nlohmann::json;

Result<ImageService> ImageService::open(const std::string& root) {
  auto s = ContentStore::open(root);
  if (!s) return tl::unexpected(s.error());
  return ImageService(std::move(*s));
}

static bool is_hex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

Result<ResolvedImage> ImageService::resolve_digest(const Digest& top) const {
  ResolvedImage r;
  r.top = top;
  auto body = store_.read_blob(top);
  if (!body) return tl::unexpected(body.error().wrap("read manifest " + top.string()));
  // The blob's own mediaType says whether it is an index (OCI layouts and
  // multi-arch pulls may tag an index).
  json j = json::parse(*body, nullptr, false);
  std::string mt = j.is_object() && j.contains("mediaType") && j["mediaType"].is_string()
                       ? j["mediaType"].get<std::string>() : "";
  bool index = is_index_media_type(mt) || (mt.empty() && j.is_object() && j.contains("manifests"));
  Digest mdig = top;
  std::string mjson = *body;
  if (index) {
    auto idx = parse_index(*body);
    if (!idx) return tl::unexpected(idx.error().wrap("index " + top.string()));
    auto d = select_platform(*idx);
    if (!d) return tl::unexpected(d.error().wrap("index " + top.string()));
    mdig = d->digest;
    auto mb = store_.read_blob(mdig);
    if (!mb) return tl::unexpected(mb.error().wrap("read manifest " + mdig.string()));
    mjson = *mb;
  }
  auto m = parse_manifest(mjson);
  if (!m) return tl::unexpected(m.error().wrap("manifest " + mdig.string()));
  r.manifest_digest = mdig;
  r.manifest = *m;
  r.manifest_json = mjson;
  r.config_digest = m->config.digest;
  auto cb = store_.read_blob(r.config_digest);
  if (!cb) return tl::unexpected(cb.error().wrap("read config " + r.config_digest.string()));
  auto c = parse_image_config(*cb);
  if (!c) return tl::unexpected(c.error().wrap("config " + r.config_digest.string()));
  r.config = *c;
  r.config_json = *cb;
  return r;
}

Result<ResolvedImage> ImageService::resolve(const std::string& name) const {
  auto refs = store_.refs();
  if (!refs) return tl::unexpected(refs.error());
  auto names_of = [&](const Digest& top) {
    std::vector<std::string> out;
    for (auto& [n, d] : *refs)
      if (d == top) {
        auto pr = parse_reference(n);
        out.push_back(pr ? pr->familiar() : n);
      }
    return out;
  };
  auto ref = parse_reference(name);
  if (ref) {
    auto top = store_.get_ref(*ref);
    if (top) {
      auto r = resolve_digest(*top);
      if (!r) return tl::unexpected(r.error().wrap("image " + name));
      r->names = names_of(*top);
      return r;
    }
  }
  // An id prefix: the config digest, as `docker rmi 3f57d9401f8d` takes it.
  std::string hex = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
  if (hex.size() >= 4 && is_hex(hex)) {
    std::optional<Digest> found;
    for (auto& [n, d] : *refs) {
      auto r = resolve_digest(d);
      if (!r) continue;
      if (r->config_digest.hex.rfind(hex, 0) == 0 || d.hex.rfind(hex, 0) == 0) {
        if (found && !(*found == d))
          return fail("image id " + name + " is ambiguous");
        found = d;
      }
    }
    if (found) {
      auto r = resolve_digest(*found);
      if (!r) return tl::unexpected(r.error());
      r->names = names_of(*found);
      return r;
    }
  }
  if (!ref) return tl::unexpected(ref.error());
  return fail("image " + name + " not found", ENOENT);
}

Result<std::vector<ImageSummary>> ImageService::list() const {
  auto refs = store_.refs();
  if (!refs) return tl::unexpected(refs.error());
  std::vector<ImageSummary> out;
  for (auto& [n, d] : *refs) {
    auto r = resolve_digest(d);
    ImageSummary s;
    auto pr = parse_reference(n);
    s.name = pr ? pr->familiar() : n;
    s.manifest = d;
    if (!r) {
      // A damaged image (a blob deleted by hand) is listed, not fatal: the
      // user needs to see it to `rm` it.
      s.id = "<broken>";
      out.push_back(std::move(s));
      continue;
    }
    s.id = short_id(r->config_digest);
    s.size = r->manifest.config.size;
    for (auto& l : r->manifest.layers) s.size += l.size;
    s.created = r->config.created;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

Result<std::string> ImageService::inspect(const std::string& name) const {
  auto r = resolve(name);
  if (!r) return tl::unexpected(r.error());
  json out;
  out["Id"] = r->config_digest.string();
  out["RepoTags"] = r->names;
  out["Digest"] = r->top.string();
  out["ManifestDigest"] = r->manifest_digest.string();
  out["Manifest"] = json::parse(r->manifest_json, nullptr, false);
  out["Config"] = json::parse(r->config_json, nullptr, false);
  uint64_t size = r->manifest.config.size;
  for (auto& l : r->manifest.layers) size += l.size;
  out["Size"] = size;
  out["Created"] = r->config.created;
  out["Os"] = r->config.os;
  out["Architecture"] = r->config.architecture;
  return out.dump(2);
}

Result<> ImageService::reachable(const Digest& top, std::vector<Digest>& blobs,
                                 std::vector<Digest>& chains) const {
  blobs.push_back(top);
  auto body = store_.read_blob(top);
  if (!body) return tl::unexpected(body.error().wrap("read " + top.string()));
  json j = json::parse(*body, nullptr, false);
  if (j.is_object() && j.contains("manifests")) {
    auto idx = parse_index(*body);
    if (!idx) return tl::unexpected(idx.error());
    for (auto& d : idx->manifests)
      if (store_.has_blob(d.digest)) STACK_TRY(reachable(d.digest, blobs, chains));
    return {};
  }
  auto m = parse_manifest(*body);
  if (!m) return tl::unexpected(m.error().wrap("manifest " + top.string()));
  blobs.push_back(m->config.digest);
  for (auto& l : m->layers) blobs.push_back(l.digest);
  auto cb = store_.read_blob(m->config.digest);
  if (cb) {
    auto c = parse_image_config(*cb);
    if (c) for (auto& id : chain_ids(c->diff_ids)) chains.push_back(id);
  }
  return {};
}

Result<RemoveReport> ImageService::remove(const std::string& name) {
  auto refs = store_.refs();
  if (!refs) return tl::unexpected(refs.error());
  // Which refs go: the one named, or (an id) every ref to that image.
  std::vector<std::string> doomed;
  auto ref = parse_reference(name);
  if (ref && store_.get_ref(*ref)) {
    doomed.push_back(ref->string());
  } else {
    auto r = resolve(name);
    if (!r) return tl::unexpected(r.error());
    for (auto& [n, d] : *refs)
      if (d == r->top) doomed.push_back(n);
  }
  RemoveReport rep;
  std::set<std::string> gone_tops;
  for (auto& n : doomed) {
    auto pr = parse_reference(n);
    if (!pr) return tl::unexpected(pr.error());
    gone_tops.insert((*refs)[n].hex);
    STACK_TRY_CTX(store_.remove_ref(*pr), "untag " + n);
    rep.untagged.push_back(pr->familiar());
    refs->erase(n);
  }
  // What the remaining refs keep alive.
  std::set<std::string> keep_blobs, keep_chains;
  for (auto& [n, d] : *refs) {
    std::vector<Digest> b, c;
    if (!reachable(d, b, c)) continue;  // a broken image keeps nothing extra alive
    for (auto& x : b) keep_blobs.insert(x.hex);
    for (auto& x : c) keep_chains.insert(x.hex);
  }
  for (auto& hex : gone_tops) {
    if (keep_blobs.count(hex)) continue;  // still tagged under another name
    std::vector<Digest> b, c;
    Digest top{"sha256", hex};
    // A damaged image frees what could be read of it; prune gets the rest.
    (void)reachable(top, b, c);
    for (auto& chain : c) {
      if (keep_chains.count(chain.hex) || !store_.has_snapshot(chain)) continue;
      STACK_TRY_CTX(store_.remove_snapshot(chain), "remove snapshot " + chain.string());
      keep_chains.insert(chain.hex);
      rep.deleted_snapshots.push_back(chain);
    }
    for (auto& blob : b) {
      if (keep_blobs.count(blob.hex) || !store_.has_blob(blob)) continue;
      STACK_TRY_CTX(store_.remove_blob(blob), "remove blob " + blob.string());
      keep_blobs.insert(blob.hex);  // listed once even when two layers are equal
      rep.deleted_blobs.push_back(blob);
    }
  }
  return rep;
}

Result<uint64_t> ImageService::prune() { return store_.garbage_collect(); }

Result<std::vector<std::string>> ImageService::ensure_unpacked(const std::string& name) {
  auto r = resolve(name);
  if (!r) return tl::unexpected(r.error());
  const auto& layers = r->manifest.layers;
  const auto& diffs = r->config.diff_ids;
  if (layers.size() != diffs.size())
    return fail("image " + name + ": manifest has " + std::to_string(layers.size()) +
                " layers but config rootfs.diff_ids has " + std::to_string(diffs.size()));
  auto chains = chain_ids(diffs);
  // Layers unpack into separate snapshot directories, so the missing ones
  // are unpacked in parallel (gzip decompression is single-threaded and the
  // bottleneck). Only the chain-id naming depends on order.
  std::vector<size_t> missing;
  for (size_t i = 0; i < layers.size(); i++)
    if (!store_.has_snapshot(chains[i])) missing.push_back(i);
  std::vector<std::optional<Error>> errors(layers.size());
  auto unpack_one = [&](size_t i) {
    auto dir = store_.prepare_snapshot();
    if (!dir) {
      errors[i] = dir.error();
      return;
    }
    // A failed unpack's partial tree is discarded here (a crash leaves it
    // as snapshots/.tmp-* debris, which ContentStore::open clears).
    auto discard = [&](const Error& e) {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path(*dir).parent_path(), ec);
      errors[i] = e;
    };
    auto u = unpack_layer(store_.blob_path(layers[i].digest), *dir, UnpackOptions{});
    if (!u) return discard(u.error().wrap("unpack layer " + layers[i].digest.string()));
    if (!(u->diff_id == diffs[i]))
      return discard(Error{0, "layer " + layers[i].digest.string() + ": uncompressed digest " +
                                  u->diff_id.string() + " does not match config rootfs.diff_ids[" +
                                  std::to_string(i) + "] " + diffs[i].string()});
    if (auto ok = store_.publish_snapshot(*dir, chains[i]); !ok) discard(ok.error());
  };
  parallel_for(missing.size(), std::max(1u, std::thread::hardware_concurrency()), [&](size_t k) {
    unpack_one(missing[k]);
    return true;  // the other layers go on: each failure is reported
  });
  // Layers that did unpack stay published: they are valid snapshots that a
  // retry (or another image sharing them) reuses.
  for (auto& e : errors)
    if (e) return tl::unexpected(e->wrap("image " + name));
  std::vector<std::string> dirs;
  for (size_t i = 0; i < layers.size(); i++) dirs.push_back(store_.snapshot_path(chains[i]));
  std::reverse(dirs.begin(), dirs.end());
  return dirs;
}

Result<ImageConfig> ImageService::image_runtime_config(const std::string& name) const {
  auto r = resolve(name);
  if (!r) return tl::unexpected(r.error());
  return r->config;
}

}  // namespace stack::img
