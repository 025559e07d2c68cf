// normalize_project(): top-level networks, volumes, configs, secrets and x-*
// (services: normalize_service.cc).
#include "orchestrator/compose/normalize.h"

#include "orchestrator/compose/documents.h"
#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/unsupported.h"

namespace stack::compose {

namespace {

// external: true | {name: x} (the old form), name: x.
stack::Result<void> read_external(const Node& n, const std::string& path, bool& external, std::string& external_name) {
  if (const Node* e = n.find("external")) {
    if (e->is_map()) {
      external = true;
      if (const Node* nm = e->find("name")) external_name = nm->scalar;
    } else {
      STACK_COMPOSE_ASSIGN(external, read_bool(*e, path + ".external"));
    }
  }
  if (const Node* nm = n.find("name")) external_name = nm->scalar;
  return {};
}

// The fields networks and volumes share: external, name, driver,
// driver_opts, labels.
template <class Def>
stack::Result<void> read_driver_fields(const Node& n, const std::string& path, Def& d) {
  STACK_TRY(read_external(n, path, d.external, d.external_name));
  if (const Node* v = n.find("driver")) d.driver = v->scalar;
  if (const Node* v = n.find("driver_opts")) STACK_COMPOSE_ASSIGN(d.driver_opts, read_string_map(*v, path + ".driver_opts"));
  if (const Node* v = n.find("labels")) STACK_COMPOSE_ASSIGN(d.labels, read_string_map(*v, path + ".labels"));
  return {};
}

stack::Result<NetworkDef> read_network(const std::string& name, const Node& n, const std::string& path) {
  NetworkDef d;
  d.name = name;
  if (!n.is_map()) return d;
  STACK_TRY(read_driver_fields(n, path, d));
  if (const Node* v = n.find("internal")) STACK_COMPOSE_ASSIGN(d.internal, read_bool(*v, path + ".internal"));
  if (const Node* v = n.find("attachable")) STACK_COMPOSE_ASSIGN(d.attachable, read_bool(*v, path + ".attachable"));
  if (const Node* v = n.find("enable_ipv6")) STACK_COMPOSE_ASSIGN(d.enable_ipv6, read_bool(*v, path + ".enable_ipv6"));
  if (const Node* ipam = n.find("ipam"); ipam && ipam->is_map())
    if (const Node* cfg = ipam->find("config"); cfg && cfg->is_seq())
      for (auto& c : cfg->items) {
        const Node* sub = c.find("subnet");
        const Node* gw = c.find("gateway");
        // IPv6 subnets are skipped (networks are IPv4 only; normalize_project warns).
        if (!sub || sub->scalar.find(':') != std::string::npos) continue;
        d.subnets.push_back(sub->scalar);
        d.gateways.push_back(gw ? gw->scalar : "");
      }
  return d;
}

stack::Result<VolumeDef> read_volume(const std::string& name, const Node& n, const std::string& path) {
  VolumeDef d;
  d.name = name;
  if (!n.is_map()) return d;
  STACK_TRY(read_driver_fields(n, path, d));
  return d;
}

stack::Result<ConfigOrSecretDef> read_config(const std::string& name, const Node& n, const std::string& path) {
  ConfigOrSecretDef d;
  d.name = name;
  if (!n.is_map()) return d;
  std::string ignored;
  STACK_TRY(read_external(n, path, d.external, ignored));
  if (const Node* v = n.find("file")) d.file = resolve_path(v->mark, v->scalar);
  if (const Node* v = n.find("content")) d.content = v->scalar;
  if (const Node* v = n.find("environment")) d.environment = v->scalar;
  return d;
}

template <class Def, class Fn>
stack::Result<void> read_section(const Node& doc, const char* key, std::map<std::string, Def>& out, Fn fn) {
  const Node* sec = doc.find(key);
  if (!sec || !sec->is_map()) return {};
  for (auto& e : sec->entries) {
    Def d;
    STACK_COMPOSE_ASSIGN(d, fn(e.key, e.value, std::string(key) + "." + e.key));
    out[e.key] = std::move(d);
  }
  return {};
}

}  // namespace

stack::Result<Project> normalize_project(const Node& doc, const Lookup& env, std::vector<Warning>& warnings) {
  Project p;
  for (auto& e : doc.entries) {
    if (e.key == "version")
      add_warning(warnings, e.mark, "version", "the attribute `version` is obsolete and ignored");
    for (auto& u : kUnsupportedFields)
      if (u.path.substr(0, 4) == "top:" && u.path.substr(4) == e.key)
        add_warning(warnings, e.mark, e.key, "not supported by stack yet: " + std::string(u.note));
    if (e.key.rfind("x-", 0) == 0) p.extensions[e.key] = to_json_text(e.value);
  }
  if (const Node* services = doc.find("services"); services && services->is_map())
    for (auto& e : services->entries) {
      Service s;
      STACK_COMPOSE_ASSIGN(s, normalize_service(e.key, e.value, env, warnings));
      p.services[e.key] = std::move(s);
    }
  STACK_TRY(read_section(doc, "networks", p.networks, read_network));
  // Networks are IPv4 only: say so where a file asks for IPv6.
  if (const Node* nets = doc.find("networks"); nets && nets->is_map())
    for (auto& ne : nets->entries) {
      std::string np = "networks." + ne.key;
      if (const Entry* e = find_entry(ne.value, "enable_ipv6"); e && e->value.scalar == "true")
        add_warning(warnings, e->mark, np + ".enable_ipv6",
                    "not supported by stack yet, ignored: networks are IPv4 only (IPv6 published ports still work)");
      if (const Node* ipam = ne.value.find("ipam"); ipam && ipam->is_map())
        if (const Node* cfg = ipam->find("config"); cfg && cfg->is_seq())
          for (auto& c : cfg->items)
            if (const Entry* e = find_entry(c, "subnet"); e && e->value.scalar.find(':') != std::string::npos)
              add_warning(warnings, e->mark, np + ".ipam.config.subnet",
                          "IPv6 subnet " + e->value.scalar + " ignored: networks are IPv4 only");
    }
  STACK_TRY(read_section(doc, "volumes", p.volumes, read_volume));
  STACK_TRY(read_section(doc, "configs", p.configs, read_config));
  STACK_TRY(read_section(doc, "secrets", p.secrets, read_config));
  for (auto& [name, s] : p.services)
    if (s.networks.count("default") && !p.networks.count("default")) {
      NetworkDef d;
      d.name = "default";
      p.networks["default"] = d;
    }
  return p;
}

}  // namespace stack::compose
