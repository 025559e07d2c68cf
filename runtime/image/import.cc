#include "runtime/image/import.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>

#include "runtime/image/archive_reader.h"
#include "runtime/image/archive_load.h"
#include "base/fd.h"

namespace stack::img {

using stack::fail;
using stack::fail_errno;

using nlohmann::json;
using stack::UniqueFd;

namespace {

// libarchive's errno is a real one only for I/O; format problems carry
// EILSEQ (libarchive's private ARCHIVE_ERRNO_FILE_FORMAT) or -1, whose
// strerror would mislead.
int archive_code(archive* a) {
  int e = archive_errno(a);
  return e > 0 && e != EILSEQ ? e : 0;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Words as the Dockerfile parser splits ENV/LABEL/VOLUME arguments: blanks
// separate, "..." and '...' quote, backslash escapes (not inside '...').
Result<std::vector<std::string>> split_words(const std::string& s, const std::string& what) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < s.size()) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (in_word) out.push_back(cur), cur.clear(), in_word = false;
      continue;
    }
    in_word = true;
    if (c == '"' || c == '\'') quote = c;
    else if (c == '\\' && i + 1 < s.size()) cur += s[++i];
    else cur += c;
  }
  if (quote) return fail(what + ": unterminated quote");
  if (in_word) out.push_back(cur);
  return out;
}

// JSON form (["a","b"]) when it parses as an array of strings, else shell
// form wrapped in /bin/sh -c, as Docker does.
std::vector<std::string> exec_or_shell(const std::string& args) {
  if (!args.empty() && args[0] == '[') {
    json j = json::parse(args, nullptr, false);
    if (j.is_array() && std::all_of(j.begin(), j.end(), [](const json& x) { return x.is_string(); }))
      return j.get<std::vector<std::string>>();
  }
  return {"/bin/sh", "-c", args};
}

Result<std::vector<std::pair<std::string, std::string>>> key_values(const std::string& args,
                                                                   const std::string& what,
                                                                   bool legacy_space_form) {
  std::vector<std::pair<std::string, std::string>> out;
  auto words = split_words(args, what);
  if (!words) return tl::unexpected(words.error());
  if (words->empty()) return fail(what + ": needs at least one argument");
  if ((*words)[0].find('=') == std::string::npos) {
    // "ENV KEY value with spaces" (one pair, the rest verbatim).
    if (!legacy_space_form || words->size() < 2)
      return fail(what + ": expected KEY=VALUE, got \"" + (*words)[0] + "\"");
    size_t sp = args.find_first_of(" \t");
    out.emplace_back((*words)[0], trim(args.substr(sp)));
    return out;
  }
  for (auto& w : *words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail(what + ": expected KEY=VALUE, got \"" + w + "\"");
    out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return out;
}

std::string now_rfc3339() {
  char buf[32];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Refuses files that are not tars before anything is stored.
Result<> check_is_tar(const std::string& path) {
  ArchiveReader a = new_archive_reader();
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
    return fail(path + ": " + archive_error_string(a.get()), archive_code(a.get()));
  archive_entry* e = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) return {};
    if (rc < ARCHIVE_WARN) return fail(path + ": not a tar archive: " + archive_error_string(a.get()));
  }
}

}  // namespace

Result<> apply_change(ImageConfig& c, const std::string& change) {
  std::string t = trim(change);
  size_t sp = t.find_first_of(" \t");
  std::string op = t.substr(0, sp);
  std::string args = sp == std::string::npos ? "" : trim(t.substr(sp));
  std::transform(op.begin(), op.end(), op.begin(), [](unsigned char ch) { return std::toupper(ch); });
  std::string what = "--change \"" + change + "\"";
  if (op.empty()) return fail(what + ": empty");
  if (args.empty()) return fail(what + ": " + op + " needs an argument");
  if (op == "CMD") {
    c.cmd = exec_or_shell(args);
  } else if (op == "ENTRYPOINT") {
    c.entrypoint = exec_or_shell(args);
  } else if (op == "ENV") {
    auto kv = key_values(args, what, true);
    if (!kv) return tl::unexpected(kv.error());
    for (auto& [k, v] : *kv) {
      auto it = std::find_if(c.env.begin(), c.env.end(),
                             [&](const std::string& e) { return e.rfind(k + "=", 0) == 0; });
      if (it != c.env.end()) *it = k + "=" + v;
      else c.env.push_back(k + "=" + v);
    }
  } else if (op == "LABEL") {
    auto kv = key_values(args, what, false);
    if (!kv) return tl::unexpected(kv.error());
    for (auto& [k, v] : *kv) c.labels[k] = v;
  } else if (op == "WORKDIR") {
    // Relative WORKDIRs are relative to the previous one (here: "/").
    c.working_dir = args[0] == '/' ? args : (c.working_dir.empty() ? "/" : c.working_dir + "/") + args;
  } else if (op == "USER") {
    c.user = args;
  } else if (op == "STOPSIGNAL") {
    c.stop_signal = args;
  } else if (op == "EXPOSE") {
    auto words = split_words(args, what);
    if (!words) return tl::unexpected(words.error());
    for (auto w : *words) {
      std::string port = w.substr(0, w.find('/'));
      std::string proto = w.find('/') == std::string::npos ? "tcp" : w.substr(w.find('/') + 1);
      std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char ch) { return std::tolower(ch); });
      bool digits = !port.empty() && std::all_of(port.begin(), port.end(), [](char ch) {
        return std::isdigit(static_cast<unsigned char>(ch)) || ch == '-';
      });
      if (!digits || (proto != "tcp" && proto != "udp" && proto != "sctp"))
        return fail(what + ": invalid port \"" + w + "\"");
      std::string p = port + "/" + proto;
      if (std::find(c.exposed_ports.begin(), c.exposed_ports.end(), p) == c.exposed_ports.end())
        c.exposed_ports.push_back(p);
    }
  } else if (op == "VOLUME") {
    std::vector<std::string> vols;
    json j = args[0] == '[' ? json::parse(args, nullptr, false) : json();
    if (j.is_array() && std::all_of(j.begin(), j.end(), [](const json& x) { return x.is_string(); })) {
      vols = j.get<std::vector<std::string>>();
    } else {
      auto words = split_words(args, what);
      if (!words) return tl::unexpected(words.error());
      vols = *words;
    }
    for (auto& v : vols)
      if (std::find(c.volumes.begin(), c.volumes.end(), v) == c.volumes.end()) c.volumes.push_back(v);
  } else {
    return fail(what + ": " + op + " is not a supported change (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, "
                "STOPSIGNAL, USER, VOLUME, WORKDIR)");
  }
  return {};
}

Result<ImportedImage> import_rootfs(ContentStore& store, const std::string& tar_path,
                                    const std::string& name, const ImportOptions& options) {
  auto ref = parse_reference(name);
  if (!ref) return tl::unexpected(ref.error());
  if (!ref->digest.empty()) return fail("import " + name + ": a digest cannot be a tag");
  ImageConfig cfg;
  cfg.os = "linux";
  cfg.architecture = host_architecture();
  cfg.created = options.created.empty() ? now_rfc3339() : options.created;
  for (auto& ch : options.changes) STACK_TRY_CTX(apply_change(cfg, ch), "import " + name);

  STACK_TRY_CTX(check_is_tar(tar_path), "import " + name);
  auto diff = diff_id_of(tar_path);
  if (!diff) return tl::unexpected(diff.error().wrap("import " + name));
  cfg.diff_ids = {diff->diff_id};
  std::string layer_mt = diff->compression.empty() ? media::kOciLayerTar
                         : diff->compression == "gzip" ? media::kOciLayerGzip
                         : diff->compression == "zstd" ? media::kOciLayerZstd
                                                       : "";
  if (layer_mt.empty())
    return fail("import " + name + ": " + diff->compression + "-compressed layers are not supported "
                "(use an uncompressed, gzip or zstd tar)");

  // The layer blob: hash as we copy; ingest verifies against the digest we
  // computed first, so a file changing under us is caught.
  UniqueFd fd(::open(tar_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno("import " + name + ": open " + tar_path);
  Sha256 h;
  int64_t size = 0;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("import " + name + ": read " + tar_path);
    }
    h.update(buf, n);
    size += n;
  }
  Digest layer = h.finish();
  std::vector<Digest> added;
  auto rollback = [&](const Error& e) -> Result<ImportedImage> {
    for (auto& d : added) (void)store.remove_blob(d);
    return tl::unexpected(e.wrap("import " + name));
  };
  if (!store.has_blob(layer)) {
    if (::lseek(fd.get(), 0, SEEK_SET) < 0) return fail_errno("import " + name + ": seek " + tar_path);
    auto w = store.ingest(layer, size);
    if (!w) return rollback(w.error());
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail_errno("import " + name + ": read " + tar_path);
      }
      if (auto ok = w->write(buf, n); !ok) return rollback(ok.error());
    }
    if (auto ok = w->commit(); !ok) return rollback(ok.error());
    added.push_back(layer);
  }
  std::string cfg_json = image_config_to_json(cfg);
  Digest cfg_digest = sha256_of(cfg_json);
  json m = {{"schemaVersion", 2},
            {"mediaType", media::kOciManifest},
            {"config", {{"mediaType", media::kOciConfig}, {"digest", cfg_digest.string()}, {"size", cfg_json.size()}}},
            {"layers", json::array({{{"mediaType", layer_mt}, {"digest", layer.string()}, {"size", size}}})}};
  std::string m_json = m.dump();
  Digest m_digest = sha256_of(m_json);
  for (auto& [d, bytes] : {std::pair{cfg_digest, &cfg_json}, std::pair{m_digest, &m_json}}) {
    if (store.has_blob(d)) continue;
    if (auto ok = store.put_blob(d, *bytes); !ok) return rollback(ok.error());
    added.push_back(d);
  }
  if (auto ok = store.set_ref(*ref, m_digest); !ok) return rollback(ok.error());
  return ImportedImage{*ref, m_digest, cfg_digest};
}

}  // namespace stack::img
