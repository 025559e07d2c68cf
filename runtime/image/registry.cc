// pull / push / login over a Session (registry_session.h). Blob transfers run
// on up to RegistryConfig::parallel std::threads, each with its own
// http::Client; the Session and the ContentStore are shared (the store's
// ingest/commit are safe across threads: each writer has its own file).
#include "runtime/image/registry.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "runtime/image/manifest.h"
#include "runtime/image/registry_session.h"

namespace stack::img {

using stack::fail;

namespace {

const char* kManifestAccept =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

std::string short_id(const Digest& d) { return d.hex.substr(0, 12); }

void emit(ProgressSink* p, ProgressEvent::State st, const std::string& id, uint64_t done = 0, int64_t total = -1,
          std::string msg = "") {
  if (p) p->event(ProgressEvent{st, id, done, total, std::move(msg)});
}

std::string strip_params(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

// The mediaType a manifest document declares, or one inferred from its shape.
std::string declared_media_type(const std::string& json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "";
  if (auto m = j.find("mediaType"); m != j.end() && m->is_string()) return m->get<std::string>();
  return j.contains("manifests") ? media::kOciIndex : media::kOciManifest;
}

// Runs `fn(i, client)` for i in [0, n) on up to `parallel` threads. Stops
// handing out work after the first failure and returns that failure.
template <class Fn>
Result<> run_parallel(size_t n, int parallel, const http::TlsOptions& tls, Fn fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::optional<Error> first;
  auto worker = [&] {
    http::Client client(tls);
    while (true) {
      {
        std::lock_guard lock(mu);
        if (first) return;
      }
      size_t i = next++;
      if (i >= n) return;
      auto r = fn(i, client);
      if (!r) {
        std::lock_guard lock(mu);
        if (!first) first = r.error();
      }
    }
  };
  size_t threads = std::min<size_t>(n, static_cast<size_t>(std::max(1, parallel)));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (first) return tl::unexpected(*first);
  return {};
}

void backoff(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(250) * (1 << std::min(attempt, 5)));
}

// GET a manifest (or index) by tag or digest, verified against `expect` when
// pinned and against the registry's Docker-Content-Digest otherwise.
struct Fetched {
  std::string body, media_type;
  Digest digest;
};
Result<Fetched> fetch_manifest(Session& s, http::Client& client, const std::string& reference,
                               const std::optional<Digest>& expect, const RegistryConfig& cfg) {
  for (int attempt = 0;; ++attempt) {
    http::Request req;
    req.url = s.url("/manifests/" + reference);
    req.headers.emplace_back("Accept", kManifestAccept);
    auto resp = s.send(client, req);
    Result<Fetched> out;
    if (!resp) {
      out = tl::unexpected(resp.error());
    } else if (resp->status != 200) {
      out = tl::unexpected(s.registry_error(*resp, "manifest " + reference));
    } else {
      Fetched f{resp->body, strip_params(resp->header("content-type")), sha256_of(resp->body)};
      if (f.media_type.empty() || f.media_type == "application/json" || f.media_type == "text/plain")
        f.media_type = declared_media_type(f.body);
      if (expect && !(f.digest == *expect))
        return fail("manifest " + reference + ": content digest " + f.digest.string() + " does not match " +
                    expect->string());
      if (auto hdr = resp->header("docker-content-digest"); !expect && !hdr.empty() && hdr != f.digest.string())
        return fail("manifest " + reference + ": content digest " + f.digest.string() +
                    " does not match the registry's Docker-Content-Digest " + hdr);
      out = std::move(f);
    }
    if (out || !is_transient(out.error()) || attempt >= cfg.retries) return out;
    backoff(attempt);
  }
}

// Streams one blob into the store, resuming from what is already ingested.
Result<> download_blob(Session& s, http::Client& client, ContentStore& store, const Descriptor& desc,
                       const RegistryConfig& cfg, ProgressSink* progress) {
  const std::string id = short_id(desc.digest);
  if (store.has_blob(desc.digest)) {
    emit(progress, ProgressEvent::State::Exists, id);
    return {};
  }
  auto writer = store.ingest(desc.digest, desc.size > 0 ? desc.size : -1, /*resumable=*/true);
  if (!writer) return tl::unexpected(writer.error());
  for (int attempt = 0;; ++attempt) {
    const uint64_t offset = writer->offset();
    uint64_t skip = 0, last_report = 0;
    http::Request req;
    req.url = s.url("/blobs/" + desc.digest.string());
    req.timeout_s = 60;
    if (offset > 0) req.headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-");
    req.on_headers = [&](const http::Response& r) -> Result<> {
      // A server that ignores Range sends the whole blob: drop what we have.
      skip = (r.status == 200) ? offset : 0;
      emit(progress, ProgressEvent::State::Downloading, id, offset, desc.size);
      return {};
    };
    http::BodySink sink = [&](const char* data, size_t n) -> Result<> {
      if (skip > 0) {
        size_t k = static_cast<size_t>(std::min<uint64_t>(skip, n));
        skip -= k;
        data += k;
        n -= k;
        if (n == 0) return {};
      }
      if (auto r = writer->write(data, n); !r) return tl::unexpected(r.error());
      uint64_t done = writer->offset();
      if (done - last_report >= (256u << 10)) {
        last_report = done;
        emit(progress, ProgressEvent::State::Downloading, id, done, desc.size);
      }
      return {};
    };
    auto resp = s.send(client, req, sink);
    Result<> r;
    if (!resp) {
      r = tl::unexpected(resp.error());
    } else if (resp->status == 416 && offset > 0 && desc.size > 0 && offset == static_cast<uint64_t>(desc.size)) {
      r = {};  // everything was already there
    } else if (resp->status / 100 != 2) {
      r = tl::unexpected(s.registry_error(*resp, "blob " + desc.digest.string()));
    } else if (desc.size > 0 && writer->offset() != static_cast<uint64_t>(desc.size)) {
      r = fail("blob " + desc.digest.string() + ": got " + std::to_string(writer->offset()) + " of " +
                   std::to_string(desc.size) + " bytes",
               EIO);
    }
    if (r) break;
    if (!is_transient(r.error()) || attempt >= cfg.retries) {
      emit(progress, ProgressEvent::State::Failed, id, writer->offset(), desc.size, r.error().message());
      return tl::unexpected(r.error().wrap("download " + desc.digest.string()));
    }
    emit(progress, ProgressEvent::State::Retrying, id, writer->offset(), desc.size, r.error().message());
    backoff(attempt);
  }
  emit(progress, ProgressEvent::State::Verifying, id, writer->offset(), desc.size);
  if (auto c = writer->commit(); !c) {
    emit(progress, ProgressEvent::State::Failed, id, 0, desc.size, c.error().message());
    return tl::unexpected(c.error());
  }
  emit(progress, ProgressEvent::State::Complete, id, static_cast<uint64_t>(std::max<int64_t>(desc.size, 0)),
       desc.size);
  return {};
}

Result<Digest> pull_impl(const Reference& ref, ContentStore& store, const RegistryConfig& cfg,
                         ProgressSink* progress, bool use_mirrors) {
  auto session = Session::open(ref.domain, ref.path, /*push=*/false, cfg, use_mirrors);
  if (!session) return tl::unexpected(session.error());
  Session& s = *session;
  http::Client client(s.tls);
  const std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  std::optional<Digest> pinned;
  if (!ref.digest.empty()) {
    auto d = parse_digest(ref.digest);
    if (!d) return tl::unexpected(d.error());
    pinned = *d;
  }
  emit(progress, ProgressEvent::State::Status, "", 0, -1, reference + ": Pulling from " + ref.path);
  auto top = fetch_manifest(s, client, reference, pinned, cfg);
  if (!top) return tl::unexpected(top.error());

  Fetched man = std::move(*top);
  std::optional<Fetched> index;
  if (is_index_media_type(man.media_type)) {
    auto idx = parse_index(man.body, man.media_type);
    if (!idx) return tl::unexpected(idx.error());
    auto pick = select_platform(*idx);
    if (!pick) return tl::unexpected(pick.error());
    auto child = fetch_manifest(s, client, pick->digest.string(), pick->digest, cfg);
    if (!child) return tl::unexpected(child.error());
    index = std::move(man);
    man = std::move(*child);
  }
  if (!is_manifest_media_type(man.media_type))
    return fail("manifest " + man.digest.string() + ": unsupported media type \"" + man.media_type + "\"");
  auto manifest = parse_manifest(man.body, man.media_type);
  if (!manifest) return tl::unexpected(manifest.error());

  std::vector<Descriptor> blobs;
  blobs.push_back(manifest->config);
  // A layer may be listed twice (identical empty layers): fetch it once, as
  // two resumable ingests of one digest would contend for the same file.
  for (const auto& l : manifest->layers)
    if (std::none_of(blobs.begin(), blobs.end(), [&](const Descriptor& b) { return b.digest == l.digest; }))
      blobs.push_back(l);
  for (size_t i = 1; i < blobs.size(); ++i)
    emit(progress, store.has_blob(blobs[i].digest) ? ProgressEvent::State::Exists : ProgressEvent::State::Waiting,
         short_id(blobs[i].digest));
  // The config is small and quiet: no progress line of its own.
  auto r = run_parallel(blobs.size(), cfg.parallel, s.tls, [&](size_t i, http::Client& c) {
    if (i > 0 && store.has_blob(blobs[i].digest)) return Result<>{};
    return download_blob(s, c, store, blobs[i], cfg, i == 0 ? nullptr : progress);
  });
  if (!r) return tl::unexpected(r.error());

  // Manifests last: their presence promises their blobs are there.
  if (index) STACK_TRY(store.put_blob(index->digest, index->body));
  STACK_TRY(store.put_blob(man.digest, man.body));
  STACK_TRY(store.set_ref(ref, man.digest));
  emit(progress, ProgressEvent::State::Status, "", 0, -1, "Digest: " + (index ? index->digest : man.digest).string());
  emit(progress, ProgressEvent::State::Status, "", 0, -1, "Status: Downloaded newer image for " + ref.familiar());
  return man.digest;
}

// Upload one blob unless the registry has it: POST for an upload URL, then a
// single PUT with the whole file and the digest.
Result<> upload_blob(Session& s, http::Client& client, ContentStore& store, const Descriptor& desc,
                     const RegistryConfig& cfg, ProgressSink* progress) {
  const std::string id = short_id(desc.digest);
  const std::string what = "blob " + desc.digest.string();
  if (!store.has_blob(desc.digest)) return fail("push: " + what + " is not in the local store");
  for (int attempt = 0;; ++attempt) {
    Result<> r;
    http::Request head;
    head.method = "HEAD";
    head.url = s.url("/blobs/" + desc.digest.string());
    auto h = s.send(client, head);
    if (h && h->status == 200) {
      emit(progress, ProgressEvent::State::Exists, id);
      return {};
    }
    if (!h) {
      r = tl::unexpected(h.error());
    } else {
      emit(progress, ProgressEvent::State::Uploading, id, 0, desc.size);
      http::Request post;
      post.method = "POST";
      post.url = s.url("/blobs/uploads/");
      auto p = s.send(client, post);
      if (!p) {
        r = tl::unexpected(p.error());
      } else if (p->status != 202 || p->header("location").empty()) {
        r = tl::unexpected(s.registry_error(*p, "start upload of " + what));
      } else {
        auto loc = http::resolve_url(p->final_url, p->header("location"));
        if (!loc) return tl::unexpected(loc.error());
        http::Request put;
        put.method = "PUT";
        put.url = *loc + (loc->find('?') == std::string::npos ? "?" : "&") + "digest=" + desc.digest.string();
        put.body_file = store.blob_path(desc.digest);
        put.headers.emplace_back("Content-Type", "application/octet-stream");
        put.timeout_s = 120;
        auto u = s.send(client, put);
        if (!u) r = tl::unexpected(u.error());
        else if (u->status != 201) r = tl::unexpected(s.registry_error(*u, "upload " + what));
      }
    }
    if (r) break;
    if (!is_transient(r.error()) || attempt >= cfg.retries) {
      emit(progress, ProgressEvent::State::Failed, id, 0, desc.size, r.error().message());
      return tl::unexpected(r.error());
    }
    emit(progress, ProgressEvent::State::Retrying, id, 0, desc.size, r.error().message());
    backoff(attempt);
  }
  emit(progress, ProgressEvent::State::Pushed, id, static_cast<uint64_t>(std::max<int64_t>(desc.size, 0)),
       desc.size);
  return {};
}

Result<> put_manifest(Session& s, http::Client& client, const std::string& reference, const std::string& body,
                      const std::string& media_type, const RegistryConfig& cfg) {
  for (int attempt = 0;; ++attempt) {
    http::Request put;
    put.method = "PUT";
    put.url = s.url("/manifests/" + reference);
    put.body = body;
    put.headers.emplace_back("Content-Type", media_type);
    auto u = s.send(client, put);
    Result<> r;
    if (!u) r = tl::unexpected(u.error());
    else if (u->status != 201 && u->status != 200) r = tl::unexpected(s.registry_error(*u, "manifest " + reference));
    if (r || !is_transient(r.error()) || attempt >= cfg.retries) return r;
    backoff(attempt);
  }
}

// Pushes one image manifest's blobs and then the manifest itself.
Result<> push_manifest(Session& s, http::Client& client, ContentStore& store, const Digest& digest,
                       const std::string& reference, const RegistryConfig& cfg, ProgressSink* progress) {
  auto body = store.read_blob(digest);
  if (!body) return tl::unexpected(body.error());
  std::string mt = declared_media_type(*body);
  auto m = parse_manifest(*body, mt);
  if (!m) return tl::unexpected(m.error());
  std::vector<Descriptor> blobs;
  for (const auto& d : m->layers)
    if (std::none_of(blobs.begin(), blobs.end(), [&](const Descriptor& b) { return b.digest == d.digest; }))
      blobs.push_back(d);
  blobs.push_back(m->config);
  STACK_TRY(run_parallel(blobs.size(), cfg.parallel, s.tls, [&](size_t i, http::Client& c) {
    return upload_blob(s, c, store, blobs[i], cfg, progress);
  }));
  return put_manifest(s, client, reference, *body, mt, cfg);
}

Result<Digest> push_impl(const Reference& local, const Reference& remote, ContentStore& store,
                         const RegistryConfig& cfg, ProgressSink* progress) {
  auto top = store.get_ref(local);
  if (!top) return tl::unexpected(top.error());
  auto body = store.read_blob(*top);
  if (!body) return tl::unexpected(body.error());
  auto session = Session::open(remote.domain, remote.path, /*push=*/true, cfg, /*use_mirrors=*/false);
  if (!session) return tl::unexpected(session.error());
  http::Client client(session->tls);
  const std::string reference = remote.tag.empty() ? top->string() : remote.tag;
  emit(progress, ProgressEvent::State::Status, "", 0, -1, "The push refers to repository [" + remote.repository() + "]");
  std::string mt = declared_media_type(*body);
  if (is_index_media_type(mt)) {
    auto idx = parse_index(*body, mt);
    if (!idx) return tl::unexpected(idx.error());
    for (const auto& d : idx->manifests) {
      if (!store.has_blob(d.digest))
        return fail("manifest " + d.digest.string() + " of index " + top->string() + " is not in the local store");
      STACK_TRY(push_manifest(*session, client, store, d.digest, d.digest.string(), cfg, progress));
    }
    STACK_TRY(put_manifest(*session, client, reference, *body, mt, cfg));
  } else {
    STACK_TRY(push_manifest(*session, client, store, *top, reference, cfg, progress));
  }
  emit(progress, ProgressEvent::State::Status, "", 0, -1,
       reference + ": digest: " + top->string() + " size: " + std::to_string(body->size()));
  return *top;
}

}  // namespace

Result<Digest> pull(const Reference& ref, ContentStore& store, const RegistryConfig& cfg, ProgressSink* progress) {
  auto r = pull_impl(ref, store, cfg, progress, /*use_mirrors=*/true);
  if (!r && cfg.mirrors.count(ref.domain)) {
    // As Docker does: a mirror that fails (or lacks the image) falls back to
    // the registry itself. When both fail, the mirror's error is the one that
    // says most (the registry is often unreachable where mirrors are used).
    auto direct = pull_impl(ref, store, cfg, progress, /*use_mirrors=*/false);
    if (direct) return direct;
  }
  if (!r) return tl::unexpected(public_error(r.error()).wrap("pull " + ref.familiar()));
  return r;
}

Result<Digest> push(const Reference& local, const Reference& remote, ContentStore& store, const RegistryConfig& cfg,
                    ProgressSink* progress) {
  auto r = push_impl(local, remote, store, cfg, progress);
  if (!r) return tl::unexpected(public_error(r.error()).wrap("push " + remote.familiar()));
  return r;
}

Result<> login(const std::string& host, const std::string& user, const std::string& password,
               const RegistryConfig& cfg) {
  auto go = [&]() -> Result<> {
    auto s = Session::open(host, "", /*push=*/false, cfg, /*use_mirrors=*/false, Credentials{user, password});
    if (!s) return tl::unexpected(s.error());
    s->scope = "";  // /v2/ itself needs no repository scope
    http::Client client(s->tls);
    http::Request req;
    req.url = s->base + "/v2/";
    auto resp = client.send(req);
    if (!resp) return tl::unexpected(resp.error());
    if (resp->status == 401) {
      // Answer the challenge with the new credentials; a token service that
      // refuses them fails here, a Basic registry on the retry below.
      auto header = s->auth->answer(resp->header("www-authenticate"), "");
      if (!header) return tl::unexpected(header.error());
      req.headers.emplace_back("Authorization", *header);
      resp = client.send(req);
      if (!resp) return tl::unexpected(resp.error());
      if (resp->status == 401) return fail("unauthorized: incorrect username or password");
    }
    if (resp->status != 200) return tl::unexpected(s->registry_error(*resp, "/v2/"));
    return save_login(host, user, password, cfg.auth_file);
  };
  auto r = go();
  if (!r) return tl::unexpected(public_error(r.error()).wrap("login " + host));
  return r;
}

}  // namespace stack::img
