#include "orchestrator/compose/volumes.h"

#include <filesystem>

#include "orchestrator/compose/documents.h"
#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/normalize.h"
#include "orchestrator/compose/units.h"

namespace stack::compose {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

bool is_propagation(const std::string& o) {
  return o == "rprivate" || o == "private" || o == "rshared" || o == "shared" || o == "rslave" || o == "slave";
}

stack::Result<std::string> bind_source(const std::string& src, const Node& at, const std::string& path, const Lookup& env) {
  std::string s = src;
  if (s == "~" || s.rfind("~/", 0) == 0) {
    auto home = env ? env("HOME") : std::nullopt;
    if (!home) return fail_at(at.mark, path, "\"" + src + "\" uses ~ but HOME is not set");
    s = *home + s.substr(1);
  }
  return resolve_path(at.mark, s);
}

stack::Result<void> check_target(const std::string& target, const Node& at, const std::string& path) {
  if (target.empty() || target[0] != '/')
    return fail_at(at.mark, path, "mount target \"" + target + "\" is not an absolute path");
  return {};
}

stack::Result<uint32_t> octal_mode(const Node& n, const std::string& path) {
  std::string s = n.scalar;
  if (s.rfind("0o", 0) == 0) s = s.substr(2);
  if (s.empty() || s.find_first_not_of("01234567") != std::string::npos || s.size() > 5)
    return fail_at(n.mark, path, "invalid mode \"" + n.scalar + "\" (octal permission bits, e.g. 1777)");
  return static_cast<uint32_t>(std::stoul(s, nullptr, 8));
}

}  // namespace

stack::Result<Mount> parse_volume(const Node& item, const std::string& path, const Lookup& env) {
  Mount m;
  if (item.is_scalar()) {
    auto parts = split(item.scalar, ':');
    if (parts.size() > 3) return fail_at(item.mark, path, "invalid volume \"" + item.scalar + "\" (SOURCE:TARGET[:MODE])");
    if (parts.size() == 1) {
      m.type = "volume";
      m.target = parts[0];
    } else {
      m.source = parts[0];
      m.target = parts[1];
      bool bind = !m.source.empty() && (m.source[0] == '/' || m.source[0] == '.' || m.source[0] == '~');
      m.type = bind ? "bind" : "volume";
      if (m.source.empty()) return fail_at(item.mark, path, "invalid volume \"" + item.scalar + "\": empty source");
      if (bind) STACK_COMPOSE_ASSIGN(m.source, bind_source(m.source, item, path, env));
    }
    if (parts.size() == 3)
      for (auto& o : split(parts[2], ',')) {
        if (o == "ro") m.read_only = true;
        else if (o == "rw") m.read_only = false;
        else if (o == "nocopy") m.nocopy = true;
        else if (is_propagation(o)) m.bind_propagation = o;
        else if (o == "z" || o == "Z" || o == "cached" || o == "delegated" || o == "consistent") continue;
        else return fail_at(item.mark, path, "unknown volume option \"" + o + "\" in \"" + item.scalar + "\"");
      }
    auto t = check_target(m.target, item, path);
    if (!t) return tl::unexpected(t.error());
    return m;
  }
  // Long form (the schema checked the field names and types).
  auto str = [&](const char* k) -> std::string {
    const Node* n = item.find(k);
    return n && n->is_scalar() ? n->scalar : "";
  };
  m.type = str("type");
  m.target = str("target");
  m.consistency = str("consistency");
  std::string source = str("source");
  if (m.type == "bind") {
    if (source.empty()) return fail_at(item.mark, path, "a bind mount needs a source");
    STACK_COMPOSE_ASSIGN(m.source, bind_source(source, *item.find("source"), path + ".source", env));
  } else if (m.type == "volume" || m.type == "tmpfs") {
    m.source = source;
  } else {
    return fail_at(item.mark, path + ".type", "unsupported mount type \"" + m.type + "\" (volume, bind or tmpfs)");
  }
  if (const Node* ro = item.find("read_only")) STACK_COMPOSE_ASSIGN(m.read_only, read_bool(*ro, path + ".read_only"));
  if (const Node* b = item.find("bind"); b && b->is_map()) {
    if (const Node* p = b->find("propagation")) m.bind_propagation = p->scalar;
    if (const Node* c = b->find("create_host_path"))
      STACK_COMPOSE_ASSIGN(m.create_host_path, read_bool(*c, path + ".bind.create_host_path"));
  }
  if (const Node* v = item.find("volume"); v && v->is_map())
    if (const Node* nc = v->find("nocopy")) STACK_COMPOSE_ASSIGN(m.nocopy, read_bool(*nc, path + ".volume.nocopy"));
  if (const Node* t = item.find("tmpfs"); t && t->is_map()) {
    if (const Node* s = t->find("size")) {
      uint64_t size = 0;
      STACK_COMPOSE_ASSIGN(size, read_size(*s, path + ".tmpfs.size"));
      m.tmpfs_size = size;
    }
    if (const Node* md = t->find("mode")) {
      uint32_t mode = 0;
      STACK_COMPOSE_ASSIGN(mode, octal_mode(*md, path + ".tmpfs.mode"));
      m.tmpfs_mode = mode;
    }
  }
  auto t = check_target(m.target, item.find("target") ? *item.find("target") : item, path);
  if (!t) return tl::unexpected(t.error());
  return m;
}

stack::Result<Mount> parse_tmpfs(const Node& item, const std::string& path) {
  Mount m;
  m.type = "tmpfs";
  auto colon = item.scalar.find(':');
  m.target = item.scalar.substr(0, colon);
  auto t = check_target(m.target, item, path);
  if (!t) return tl::unexpected(t.error());
  if (colon == std::string::npos) return m;
  for (auto& o : split(item.scalar.substr(colon + 1), ',')) {
    if (o.rfind("size=", 0) == 0) {
      auto s = parse_size(o.substr(5));
      if (!s) return fail_at(item.mark, path, s.error().context);
      m.tmpfs_size = *s;
    } else if (o.rfind("mode=", 0) == 0) {
      uint32_t mode = 0;
      STACK_COMPOSE_ASSIGN(mode, octal_mode(Node::make_scalar(o.substr(5), item.mark), path));
      m.tmpfs_mode = mode;
    } else if (o == "ro") {
      m.read_only = true;
    }
  }
  return m;
}

stack::Result<DeviceMapping> parse_device(const Node& item, const std::string& path) {
  DeviceMapping d;
  if (item.is_map()) {
    if (const Node* s = item.find("source")) d.source = s->scalar;
    if (const Node* t = item.find("target")) d.target = t->scalar;
    if (const Node* p = item.find("permissions")) d.permissions = p->scalar;
  } else {
    auto parts = split(item.scalar, ':');
    if (parts.size() > 3) return fail_at(item.mark, path, "invalid device \"" + item.scalar + "\"");
    d.source = parts[0];
    d.target = parts.size() > 1 ? parts[1] : parts[0];
    if (parts.size() == 3) d.permissions = parts[2];
  }
  if (d.target.empty()) d.target = d.source;
  if (d.source.empty() || d.source[0] != '/')
    return fail_at(item.mark, path, "device \"" + d.source + "\" is not an absolute path");
  if (d.permissions.empty() || d.permissions.find_first_not_of("rwm") != std::string::npos)
    return fail_at(item.mark, path, "device permissions \"" + d.permissions + "\" must be made of r, w and m");
  return d;
}

}  // namespace stack::compose
