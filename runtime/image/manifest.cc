// Manifests, indexes and image configs (OCI and Docker schema2). Parsing never
// throws: nlohmann is used with allow_exceptions=false and every field is type
// checked by hand so the error names the JSON path ("layers[2].digest").
#include "runtime/image/manifest.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

namespace stack::img {

using json = nlohmann::json;
using stack::fail;

bool is_index_media_type(const std::string& mt) { return mt == media::kOciIndex || mt == media::kDockerList; }
bool is_manifest_media_type(const std::string& mt) {
  return mt == media::kOciManifest || mt == media::kDockerManifest;
}

namespace {

// Field readers: absent or null -> default; wrong type -> error naming `path`.
Result<std::string> get_string(const json& j, const char* key, const std::string& path, bool required = false) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return fail(path + key + ": missing");
    return std::string();
  }
  if (!it->is_string()) return fail(path + key + ": not a string");
  return it->get<std::string>();
}

Result<int64_t> get_int(const json& j, const char* key, const std::string& path, bool required = false) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return fail(path + key + ": missing");
    return int64_t{0};
  }
  if (!it->is_number_integer()) return fail(path + key + ": not an integer");
  return it->get<int64_t>();
}

Result<std::vector<std::string>> get_string_list(const json& j, const char* key, const std::string& path) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (it->is_string()) return fail(path + key + ": not an array of strings");
  if (!it->is_array()) return fail(path + key + ": not an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& e = (*it)[i];
    if (!e.is_string()) return fail(path + key + "[" + std::to_string(i) + "]: not a string");
    out.push_back(e.get<std::string>());
  }
  return out;
}

// {"80/tcp": {}, ...} -> ["80/tcp", ...] (Docker stores sets as objects).
Result<std::vector<std::string>> get_object_keys(const json& j, const char* key, const std::string& path) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_object()) return fail(path + key + ": not an object");
  for (auto e = it->begin(); e != it->end(); ++e) out.push_back(e.key());
  return out;
}

Result<std::map<std::string, std::string>> get_string_map(const json& j, const char* key, const std::string& path) {
  std::map<std::string, std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_object()) return fail(path + key + ": not an object");
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (!e.value().is_string()) return fail(path + key + "." + e.key() + ": not a string");
    out[e.key()] = e.value().get<std::string>();
  }
  return out;
}

Result<json> parse_object(const std::string& text, const std::string& what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(what + ": invalid JSON");
  if (!j.is_object()) return fail(what + ": not a JSON object");
  return j;
}

// `path` is the prefix for errors, e.g. "layers[2]." or "config.".
Result<Descriptor> parse_descriptor(const json& j, const std::string& path, bool with_platform) {
  if (!j.is_object()) return fail(path.substr(0, path.size() - 1) + ": not an object");
  Descriptor d;
  auto mt = get_string(j, "mediaType", path);
  if (!mt) return tl::unexpected(mt.error());
  d.media_type = *mt;
  auto ds = get_string(j, "digest", path, true);
  if (!ds) return tl::unexpected(ds.error());
  auto dg = parse_digest(*ds);
  if (!dg) return fail(path + "digest: " + dg.error().context);
  d.digest = *dg;
  auto size = get_int(j, "size", path, true);
  if (!size) return tl::unexpected(size.error());
  if (*size < 0) return fail(path + "size: negative");
  d.size = *size;
  auto ann = get_string_map(j, "annotations", path);
  if (!ann) return tl::unexpected(ann.error());
  d.annotations = std::move(*ann);
  if (with_platform) {
    auto p = j.find("platform");
    if (p != j.end() && !p->is_null()) {
      if (!p->is_object()) return fail(path + "platform: not an object");
      std::string pp = path + "platform.";
      auto os = get_string(*p, "os", pp);
      auto arch = get_string(*p, "architecture", pp);
      auto var = get_string(*p, "variant", pp);
      if (!os) return tl::unexpected(os.error());
      if (!arch) return tl::unexpected(arch.error());
      if (!var) return tl::unexpected(var.error());
      d.os = *os;
      d.architecture = *arch;
      d.variant = *var;
    }
  }
  return d;
}

// The media type from the caller (Content-Type) or, failing that, the JSON's
// own; OCI allows omitting mediaType, so the shape decides as a last resort.
// CVE-2021-41190: a document whose own mediaType disagrees with the
// Content-Type it was served with could be read as a manifest by one client
// and as an index by another, so both must agree when both are given.
Result<std::string> resolve_media_type(const json& j, const std::string& given) {
  auto own = get_string(j, "mediaType", "");
  if (!own) return tl::unexpected(own.error());
  if (!given.empty() && given != "application/json" && given != "application/octet-stream") {
    if (!own->empty() && *own != given)
      return fail("mediaType \"" + *own + "\" does not match the Content-Type \"" + given + "\"");
    return given;
  }
  if (!own->empty()) return *own;
  if (j.contains("manifests")) return std::string(media::kOciIndex);
  return std::string(media::kOciManifest);
}

// CVE-2021-41190: a document with both an index's and a manifest's fields is
// ambiguous (its digest would name two different images); refused either way.
Result<> check_unambiguous(const json& j, bool as_index) {
  auto present = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && !it->is_null();
  };
  if (as_index && (present("layers") || present("config")))
    return fail("ambiguous document: an index with \"" + std::string(present("layers") ? "layers" : "config") +
                "\" (a manifest's field)");
  if (!as_index && present("manifests"))
    return fail("ambiguous document: a manifest with \"manifests\" (an index's field)");
  return {};
}

Result<> check_schema(const json& j) {
  auto v = get_int(j, "schemaVersion", "");
  if (!v) return tl::unexpected(v.error());
  if (j.contains("schemaVersion") && *v != 2)
    return fail("schemaVersion: " + std::to_string(*v) + " is not supported (want 2)");
  return {};
}

}  // namespace

Result<Manifest> parse_manifest(const std::string& text, const std::string& media_type) {
  auto wrap = [](const Error& e) { return tl::unexpected(e.wrap("manifest")); };
  auto j = parse_object(text, "manifest");
  if (!j) return tl::unexpected(j.error());
  if (auto s = check_schema(*j); !s) return wrap(s.error());
  auto mt = resolve_media_type(*j, media_type);
  if (!mt) return wrap(mt.error());
  if (is_index_media_type(*mt)) return fail("manifest: media type " + *mt + " is an index, not an image manifest");
  if (!is_manifest_media_type(*mt)) return fail("manifest: unsupported media type \"" + *mt + "\"");
  if (auto u = check_unambiguous(*j, false); !u) return wrap(u.error());
  Manifest m;
  m.media_type = *mt;
  auto cfg = j->find("config");
  if (cfg == j->end() || cfg->is_null()) return fail("manifest: config: missing");
  auto c = parse_descriptor(*cfg, "config.", false);
  if (!c) return wrap(c.error());
  m.config = std::move(*c);
  auto layers = j->find("layers");
  if (layers != j->end() && !layers->is_null()) {
    if (!layers->is_array()) return fail("manifest: layers: not an array");
    for (size_t i = 0; i < layers->size(); ++i) {
      auto l = parse_descriptor((*layers)[i], "layers[" + std::to_string(i) + "].", false);
      if (!l) return wrap(l.error());
      m.layers.push_back(std::move(*l));
    }
  }
  return m;
}

Result<Index> parse_index(const std::string& text, const std::string& media_type) {
  auto wrap = [](const Error& e) { return tl::unexpected(e.wrap("index")); };
  auto j = parse_object(text, "index");
  if (!j) return tl::unexpected(j.error());
  if (auto s = check_schema(*j); !s) return wrap(s.error());
  auto mt = resolve_media_type(*j, media_type);
  if (!mt) return wrap(mt.error());
  if (is_manifest_media_type(*mt)) return fail("index: media type " + *mt + " is an image manifest, not an index");
  if (!is_index_media_type(*mt)) return fail("index: unsupported media type \"" + *mt + "\"");
  if (auto u = check_unambiguous(*j, true); !u) return wrap(u.error());
  Index idx;
  idx.media_type = *mt;
  auto ms = j->find("manifests");
  if (ms == j->end() || ms->is_null()) return fail("index: manifests: missing");
  if (!ms->is_array()) return fail("index: manifests: not an array");
  for (size_t i = 0; i < ms->size(); ++i) {
    auto d = parse_descriptor((*ms)[i], "manifests[" + std::to_string(i) + "].", true);
    if (!d) return wrap(d.error());
    idx.manifests.push_back(std::move(*d));
  }
  return idx;
}

Result<ImageConfig> parse_image_config(const std::string& text) {
  auto wrap = [](const Error& e) { return tl::unexpected(e.wrap("image config")); };
  auto j = parse_object(text, "image config");
  if (!j) return tl::unexpected(j.error());
  ImageConfig c;
  // Top level.
  for (auto [key, dst] : {std::pair{"os", &c.os}, {"architecture", &c.architecture}, {"variant", &c.variant},
                          {"created", &c.created}}) {
    auto v = get_string(*j, key, "");
    if (!v) return wrap(v.error());
    *dst = std::move(*v);
  }
  // config.*: the runtime defaults the image asks for.
  auto cfg = j->find("config");
  if (cfg != j->end() && !cfg->is_null()) {
    if (!cfg->is_object()) return fail("image config: config: not an object");
    const std::string p = "config.";
    for (auto [key, dst] : {std::pair{"Entrypoint", &c.entrypoint}, {"Cmd", &c.cmd}, {"Env", &c.env}}) {
      auto v = get_string_list(*cfg, key, p);
      if (!v) return wrap(v.error());
      *dst = std::move(*v);
    }
    for (auto [key, dst] : {std::pair{"WorkingDir", &c.working_dir}, {"User", &c.user},
                            {"StopSignal", &c.stop_signal}}) {
      auto v = get_string(*cfg, key, p);
      if (!v) return wrap(v.error());
      *dst = std::move(*v);
    }
    auto ports = get_object_keys(*cfg, "ExposedPorts", p);
    if (!ports) return wrap(ports.error());
    c.exposed_ports = std::move(*ports);
    auto vols = get_object_keys(*cfg, "Volumes", p);
    if (!vols) return wrap(vols.error());
    c.volumes = std::move(*vols);
    auto labels = get_string_map(*cfg, "Labels", p);
    if (!labels) return wrap(labels.error());
    c.labels = std::move(*labels);
    auto hc = cfg->find("Healthcheck");
    if (hc != cfg->end() && !hc->is_null()) {
      if (!hc->is_object()) return fail("image config: config.Healthcheck: not an object");
      const std::string hp = "config.Healthcheck.";
      Healthcheck h;
      auto test = get_string_list(*hc, "Test", hp);
      if (!test) return wrap(test.error());
      h.test = std::move(*test);
      for (auto [key, dst] : {std::pair{"Interval", &h.interval_ns}, {"Timeout", &h.timeout_ns},
                              {"StartPeriod", &h.start_period_ns}, {"StartInterval", &h.start_interval_ns}}) {
        auto v = get_int(*hc, key, hp);
        if (!v) return wrap(v.error());
        *dst = *v;
      }
      auto r = get_int(*hc, "Retries", hp);
      if (!r) return wrap(r.error());
      h.retries = static_cast<int>(*r);
      c.healthcheck = std::move(h);
    }
  }
  auto rootfs = j->find("rootfs");
  if (rootfs != j->end() && !rootfs->is_null()) {
    if (!rootfs->is_object()) return fail("image config: rootfs: not an object");
    auto ids = get_string_list(*rootfs, "diff_ids", "rootfs.");
    if (!ids) return wrap(ids.error());
    for (size_t i = 0; i < ids->size(); ++i) {
      auto d = parse_digest((*ids)[i]);
      if (!d) return fail("image config: rootfs.diff_ids[" + std::to_string(i) + "]: " + d.error().context);
      c.diff_ids.push_back(*d);
    }
  }
  return c;
}

std::string image_config_to_json(const ImageConfig& c) {
  json j = json::object();
  if (!c.created.empty()) j["created"] = c.created;
  j["architecture"] = c.architecture;
  j["os"] = c.os;
  if (!c.variant.empty()) j["variant"] = c.variant;
  json cfg = json::object();
  if (!c.entrypoint.empty()) cfg["Entrypoint"] = c.entrypoint;
  if (!c.cmd.empty()) cfg["Cmd"] = c.cmd;
  if (!c.env.empty()) cfg["Env"] = c.env;
  if (!c.working_dir.empty()) cfg["WorkingDir"] = c.working_dir;
  if (!c.user.empty()) cfg["User"] = c.user;
  if (!c.stop_signal.empty()) cfg["StopSignal"] = c.stop_signal;
  if (!c.exposed_ports.empty()) {
    json ports = json::object();
    for (const auto& p : c.exposed_ports) ports[p] = json::object();
    cfg["ExposedPorts"] = ports;
  }
  if (!c.volumes.empty()) {
    json vols = json::object();
    for (const auto& v : c.volumes) vols[v] = json::object();
    cfg["Volumes"] = vols;
  }
  if (!c.labels.empty()) cfg["Labels"] = c.labels;
  if (c.healthcheck) {
    const auto& h = *c.healthcheck;
    json hc = json::object();
    hc["Test"] = h.test;
    if (h.interval_ns) hc["Interval"] = h.interval_ns;
    if (h.timeout_ns) hc["Timeout"] = h.timeout_ns;
    if (h.start_period_ns) hc["StartPeriod"] = h.start_period_ns;
    if (h.start_interval_ns) hc["StartInterval"] = h.start_interval_ns;
    if (h.retries) hc["Retries"] = h.retries;
    cfg["Healthcheck"] = hc;
  }
  j["config"] = cfg;
  json ids = json::array();
  for (const auto& d : c.diff_ids) ids.push_back(d.string());
  j["rootfs"] = {{"type", "layers"}, {"diff_ids", ids}};
  return j.dump();
}

// ---- Platforms -------------------------------------------------------------
// Normalisation and matching follow containerd's platforms package: names are
// GOARCH ("x86_64" -> amd64, "aarch64" -> arm64); arm64 "v8" is the default
// variant and equals ""; plain "arm" means v7; an arm host of variant vN can
// also run lower variants, preferring the highest.

namespace {

struct Platform {
  std::string os, arch, variant;
  std::string str() const { return os + "/" + arch + (variant.empty() ? "" : "/" + variant); }
};

Platform normalize(std::string os, std::string arch, std::string variant) {
  for (auto* s : {&os, &arch, &variant})
    for (auto& ch : *s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (os == "macos") os = "darwin";
  if (arch == "i386") {
    arch = "386";
    variant.clear();
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") variant.clear();
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant == "8" || variant == "v8" || variant == "v8.0") variant.clear();
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm") {
    if (variant.empty() || variant == "7") variant = "v7";
    else if (variant == "5" || variant == "6" || variant == "8") variant = "v" + variant;
  }
  return {os, arch, variant};
}

// Variants acceptable for `want`, best first.
std::vector<std::string> acceptable_variants(const Platform& want) {
  std::vector<std::string> out{want.variant};
  if (want.arch == "arm") {
    static const char* kArm[] = {"v8", "v7", "v6", "v5"};
    bool below = false;
    for (const char* v : kArm) {
      if (below) out.push_back(v);
      if (want.variant == v) below = true;
    }
  } else if (want.arch == "amd64") {
    static const char* kAmd[] = {"v4", "v3", "v2", ""};
    bool below = false;
    for (const char* v : kAmd) {
      if (below) out.push_back(v);
      if (want.variant == v) below = true;
    }
  }
  return out;
}

}  // namespace

Result<Descriptor> select_platform(const Index& index, const std::string& os, const std::string& arch,
                                   const std::string& variant) {
  Platform want = normalize(os.empty() ? "linux" : os, arch.empty() ? host_architecture() : arch, variant);
  std::vector<Platform> have;
  have.reserve(index.manifests.size());
  for (const auto& d : index.manifests) have.push_back(normalize(d.os, d.architecture, d.variant));
  for (const auto& v : acceptable_variants(want)) {
    for (size_t i = 0; i < have.size(); ++i) {
      if (have[i].os == want.os && have[i].arch == want.arch && have[i].variant == v) return index.manifests[i];
    }
  }
  std::string avail;
  for (size_t i = 0; i < have.size(); ++i) {
    if (index.manifests[i].os.empty() || index.manifests[i].os == "unknown") continue;  // attestations
    avail += (avail.empty() ? "" : ", ") + have[i].str();
  }
  return fail("no image for platform " + want.str() + " in index; available: " + (avail.empty() ? "none" : avail));
}

Result<void> check_platform_runs_here(const std::string& platform) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t slash; (slash = platform.find('/', start)) != std::string::npos; start = slash + 1)
    parts.push_back(platform.substr(start, slash - start));
  parts.push_back(platform.substr(start));
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
    return fail("platform \"" + platform + "\": expected os/arch[/variant], e.g. linux/amd64", EINVAL);
  Platform want = normalize(parts[0], parts[1], parts.size() == 3 ? parts[2] : "");
  Platform host = normalize("linux", host_architecture(), "");
  if (want.os == host.os && want.arch == host.arch) {
    // A lower variant runs on a host of a higher one (v7 on v8 arm); the
    // host's own variant is not known here, so any variant of its arch is
    // taken, as Docker does without emulation.
    return {};
  }
  return fail("platform " + want.str() + " cannot run on this " + host.str() + " host (stack emulates nothing)");
}

std::string host_architecture() {
  struct utsname u {};
  if (::uname(&u) != 0) return "amd64";
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64" || m == "arm64") return "arm64";
  if (m.rfind("armv", 0) == 0 || m == "arm") return "arm";
  if (m == "i386" || m == "i486" || m == "i586" || m == "i686") return "386";
  if (m == "ppc64le" || m == "s390x" || m == "riscv64" || m == "loong64") return m;
  if (m == "mips64") return "mips64";
  return m;
}

std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> out;
  out.reserve(diff_ids.size());
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    if (i == 0) out.push_back(diff_ids[0]);
    else out.push_back(sha256_of(out.back().string() + " " + diff_ids[i].string()));
  }
  return out;
}

}  // namespace stack::img
