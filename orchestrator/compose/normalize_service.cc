// normalize_service(): one service's tree -> Service (see normalize.h).
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "orchestrator/compose/build.h"
#include "orchestrator/compose/deploy.h"
#include "orchestrator/compose/env_file.h"
#include "orchestrator/compose/documents.h"
#include "orchestrator/compose/fields.h"
#include "orchestrator/compose/autoscale.h"
#include "orchestrator/compose/healthcheck.h"
#include "orchestrator/compose/hooks.h"
#include "orchestrator/compose/isolation.h"
#include "orchestrator/compose/logging.h"
#include "orchestrator/compose/normalize.h"
#include "orchestrator/compose/ports.h"
#include "orchestrator/compose/resources.h"
#include "orchestrator/compose/task_spec.h"
#include "orchestrator/compose/unsupported.h"
#include "orchestrator/compose/volumes.h"

namespace stack::compose {

namespace {

// "0-2,4": CPU numbers and ascending ranges, comma-separated (the kernel's
// cpuset list format).
bool valid_cpuset(const std::string& text) {
  if (text.empty()) return false;
  size_t i = 0;
  auto number = [&](long& out) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) i++;
    if (i == start || i - start > 5) return false;
    out = std::stol(text.substr(start, i - start));
    return true;
  };
  while (true) {
    long lo = 0, hi = 0;
    if (!number(lo)) return false;
    hi = lo;
    if (i < text.size() && text[i] == '-') {
      i++;
      if (!number(hi) || hi < lo) return false;
    }
    if (i == text.size()) return true;
    if (text[i++] != ',') return false;
  }
}

// env_file entries, in order, read with `env` for their ${VAR}s.
stack::Result<void> read_env_files(const Node& n, const std::string& path, const Lookup& env,
                                std::map<std::string, std::string>& out) {
  std::vector<const Node*> items;
  if (n.is_scalar()) items.push_back(&n);
  for (auto& i : n.items) items.push_back(&i);
  for (size_t i = 0; i < items.size(); ++i) {
    const Node& it = *items[i];
    std::string p = n.is_seq() ? item_path(path, i) : path;
    const Node* file = it.is_map() ? it.find("path") : &it;
    bool required = true;
    if (it.is_map())
      if (const Node* r = it.find("required")) STACK_COMPOSE_ASSIGN(required, read_bool(*r, p + ".required"));
    if (!file) return fail_at(it.mark, p, "env_file needs a path");
    std::string abs = resolve_path(file->mark, file->scalar);
    if (!std::filesystem::exists(abs)) {
      if (!required) continue;
      return fail_at(file->mark, p, "env file " + abs + " not found");
    }
    auto vars = read_env_file(abs, file->scalar, env);
    if (!vars) return fail_at(file->mark, p, vars.error().message());
    for (auto& [k, v] : *vars) out[k] = v;
  }
  return {};
}

stack::Result<void> read_ports(const Node& n, const std::string& path, std::vector<PortSpec>& out) {
  for (size_t i = 0; i < n.items.size(); ++i) {
    const Node& it = n.items[i];
    std::string p = item_path(path, i);
    if (it.is_scalar()) {
      auto port = parse_port_short(it.scalar);
      if (!port) return fail_at(it.mark, p, port.error().context);
      out.push_back(*port);
      continue;
    }
    PortSpec port;
    const Node* target = it.find("target");
    if (!target) return fail_at(it.mark, p, "a port needs a target");
    auto t = parse_port_range(target->scalar);
    if (!t) return fail_at(target->mark, p + ".target", t.error().context);
    port.target = t->first;
    port.target_end = t->second;
    if (const Node* pub = it.find("published"); pub && !pub->scalar.empty()) {
      auto h = parse_port_range(pub->scalar);
      if (!h) return fail_at(pub->mark, p + ".published", h.error().context);
      port.published = h->first;
      port.published_end = h->second;
    } else {
      port.published_auto = true;
    }
    if (const Node* v = it.find("host_ip"); v && !v->scalar.empty()) {
      auto ip = canonical_host_ip(v->scalar);
      if (!ip) return fail_at(v->mark, p + ".host_ip", ip.error().context);
      port.host_ip = *ip;
    }
    if (const Node* v = it.find("protocol")) {
      port.protocol = v->scalar;
      if (auto r = check_protocol(port.protocol); !r) return fail_at(v->mark, p + ".protocol", r.error().context);
    }
    if (const Node* v = it.find("mode")) {
      port.mode = v->scalar;
      if (port.mode != "ingress" && port.mode != "host")
        return fail_at(v->mark, p + ".mode", "\"" + port.mode + "\" is not ingress or host");
    }
    if (const Node* v = it.find("app_protocol")) port.app_protocol = v->scalar;
    if (const Node* v = it.find("name")) port.name = v->scalar;
    out.push_back(port);
  }
  return {};
}

stack::Result<std::vector<std::string>> read_extra_hosts(const Node& n, const std::string& path) {
  std::vector<std::string> out;
  if (n.is_map()) {
    for (auto& e : n.entries) {
      std::vector<std::string> ips;
      STACK_COMPOSE_ASSIGN(ips, read_string_list(e.value, join_path(path, e.key)));
      for (auto& ip : ips) out.push_back(e.key + ":" + ip);
    }
    return out;
  }
  for (size_t i = 0; i < n.items.size(); ++i) {
    const std::string& s = n.items[i].scalar;
    auto sep = s.find('=');
    if (sep == std::string::npos) sep = s.find(':');
    if (sep == std::string::npos || sep == 0 || sep + 1 == s.size())
      return fail_at(n.items[i].mark, item_path(path, i), "invalid extra host \"" + s + "\" (HOST:IP or HOST=IP)");
    std::string ip = s.substr(sep + 1);
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    out.push_back(s.substr(0, sep) + ":" + ip);
  }
  return out;
}

// secrets and configs: "name" or {source, target, uid, gid, mode}. A mode is octal as
// Compose reads it: 0440 and 0o440 are r--r-----; without a leading 0 it is a
// plain number.
stack::Result<SecretRef> parse_secret_ref(const Node& n, const std::string& path) {
  SecretRef r;
  if (n.is_scalar()) {
    r.source = n.scalar;
    return r;
  }
  if (const Node* v = n.find("source")) STACK_COMPOSE_ASSIGN(r.source, read_string(*v, path + ".source"));
  if (const Node* v = n.find("target")) STACK_COMPOSE_ASSIGN(r.target, read_string(*v, path + ".target"));
  if (const Node* v = n.find("uid")) STACK_COMPOSE_ASSIGN(r.uid, read_string(*v, path + ".uid"));
  if (const Node* v = n.find("gid")) STACK_COMPOSE_ASSIGN(r.gid, read_string(*v, path + ".gid"));
  if (const Node* v = n.find("mode")) {
    std::string m = v->scalar;
    int base = 10;
    if (m.rfind("0o", 0) == 0) m = m.substr(2), base = 8;
    else if (m.size() > 1 && m[0] == '0') base = 8;
    size_t used = 0;
    unsigned long x = 0;
    try {
      x = std::stoul(m, &used, base);
    } catch (const std::exception&) {
      used = 0;
    }
    if (m.empty() || used != m.size() || x > 07777)
      return fail_at(v->mark, path + ".mode", "invalid file mode \"" + v->scalar + "\" (octal, e.g. 0440)");
    r.mode = static_cast<uint32_t>(x);
  }
  return r;
}

}  // namespace

const Entry* find_entry(const Node& n, const std::string& dotted) {
  const Node* cur = &n;
  const Entry* found = nullptr;
  size_t start = 0;
  while (cur && cur->is_map()) {
    auto dot = dotted.find('.', start);
    std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    found = nullptr;
    for (auto& e : cur->entries)
      if (e.key == key) found = &e;
    if (!found || dot == std::string::npos) return found;
    cur = &found->value;
    start = dot + 1;
  }
  return nullptr;
}

void add_warning(std::vector<Warning>& out, const Mark& m, const std::string& path, const std::string& message) {
  out.push_back(Warning{m.source ? m.source->display : "", m.line, m.column, path, message});
}

std::pair<std::string, std::string> split_link(const std::string& link) {
  const size_t colon = link.find(':');
  if (colon == std::string::npos) return {link, link};
  return {link.substr(0, colon), link.substr(colon + 1)};
}

stack::Result<VolumesFrom> parse_volumes_from(const std::string& entry) {
  VolumesFrom f;
  std::string rest = entry;
  if (rest.rfind("container:", 0) == 0) {
    f.container = true;
    rest = rest.substr(10);
  } else if (rest.rfind("service:", 0) == 0) {
    rest = rest.substr(8);
  }
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos) {
    const std::string mode = rest.substr(colon + 1);
    if (mode != "ro" && mode != "rw")
      return stack::fail("\"" + entry + "\": the mode is ro or rw, not \"" + mode + "\"", EINVAL);
    f.read_only = mode == "ro";
    rest = rest.substr(0, colon);
  }
  if (rest.empty() || rest.find(':') != std::string::npos)
    return stack::fail("\"" + entry + "\" is not [service:]NAME[:ro|rw] or container:NAME[:ro|rw]", EINVAL);
  f.name = rest;
  return f;
}

const std::string* service_with_container_name(const Project& project, const std::string& name) {
  for (const auto& [key, s] : project.services)
    if (!s.container_name.empty() && s.container_name == name) return &key;
  return nullptr;
}

std::vector<std::string> ordered_networks(const Service& service) {
  std::vector<std::pair<int, std::string>> v;
  for (const auto& [key, n] : service.networks) v.push_back({-n.priority.value_or(0), key});
  std::stable_sort(v.begin(), v.end());
  std::vector<std::string> out;
  for (auto& [_, k] : v) out.push_back(k);
  return out;
}

stack::Result<Service> normalize_service(const std::string& name, const Node& n, const Lookup& env,
                                      std::vector<Warning>& warnings) {
  Service s;
  s.name = name;
  const std::string base = "services." + name;
  auto P = [&](const std::string& k) { return base + "." + k; };
  for (auto& u : kUnsupportedFields) {
    if (u.path.substr(0, 4) == "top:") continue;
    if (const Entry* e = find_entry(n, std::string(u.path)))
      add_warning(warnings, e->mark, P(std::string(u.path)), "not supported by stack yet, ignored: " + std::string(u.note));
  }
  if (!n.is_map()) return s;  // `web:` with nothing: caught by the image check below
  std::optional<int> deploy_replicas;  // beats `scale` wherever either is written
  for (auto& e : n.entries) {
    const Node& v = e.value;
    const std::string& k = e.key;
    std::string p = P(k);
    bool handled = false;
    STACK_COMPOSE_ASSIGN(handled, read_tuning_field(k, v, p, s.tuning));
    if (handled) continue;
    STACK_COMPOSE_ASSIGN(handled, read_isolation_field(k, v, p, s, warnings));
    if (handled) continue;
    if (k == "image") STACK_COMPOSE_ASSIGN(s.image, read_string(v, p));
    else if (k == "build") {
      Build b;
      STACK_COMPOSE_ASSIGN(b, parse_build(v, p, env));
      s.build = std::move(b);
    } else if (k == "secrets" || k == "configs") {
      for (size_t i = 0; i < v.items.size(); ++i) {
        SecretRef r;
        STACK_COMPOSE_ASSIGN(r, parse_secret_ref(v.items[i], item_path(p, i)));
        (k == "secrets" ? s.secrets : s.configs).push_back(std::move(r));
      }
    } else if (k == "logging") STACK_COMPOSE_ASSIGN(s.logging, read_logging(v, p, warnings));
    else if (k == "attach") STACK_COMPOSE_ASSIGN(s.attach, read_bool(v, p));
    else if (k == "post_start") STACK_COMPOSE_ASSIGN(s.post_start, read_hooks(v, p));
    else if (k == "pre_stop") STACK_COMPOSE_ASSIGN(s.pre_stop, read_hooks(v, p));
    else if (k == "platform") STACK_COMPOSE_ASSIGN(s.platform, read_string(v, p));
    else if (k == "runtime") STACK_COMPOSE_ASSIGN(s.runtime, read_string(v, p));
    else if (k == "command") STACK_COMPOSE_ASSIGN(s.command, read_command(v, p));
    else if (k == "entrypoint") STACK_COMPOSE_ASSIGN(s.entrypoint, read_command(v, p));
    else if (k == "ports") STACK_TRY(read_ports(v, p, s.ports));
    else if (k == "expose") {
      for (size_t i = 0; i < v.items.size(); ++i) {
        const std::string& x = v.items[i].scalar;
        auto proto = x.find('/');
        auto r = parse_port_range(x.substr(0, proto));
        if (!r) return fail_at(v.items[i].mark, item_path(p, i), r.error().context);
        if (proto != std::string::npos)
          if (auto c = check_protocol(x.substr(proto + 1)); !c) return fail_at(v.items[i].mark, item_path(p, i), c.error().context);
        s.expose.push_back(x);
      }
    } else if (k == "volumes") {
      for (size_t i = 0; i < v.items.size(); ++i) {
        Mount m;
        STACK_COMPOSE_ASSIGN(m, parse_volume(v.items[i], item_path(p, i), env));
        s.volumes.push_back(std::move(m));
      }
    } else if (k == "tmpfs") {
      std::vector<const Node*> items;
      if (v.is_scalar()) items.push_back(&v);
      for (auto& i : v.items) items.push_back(&i);
      for (size_t i = 0; i < items.size(); ++i) {
        Mount m;
        STACK_COMPOSE_ASSIGN(m, parse_tmpfs(*items[i], v.is_seq() ? item_path(p, i) : p));
        s.volumes.push_back(std::move(m));
      }
    } else if (k == "networks") {
      for (auto& ne : v.entries) {
        ServiceNetwork sn;
        std::string np = join_path(p, ne.key);
        if (ne.value.is_map()) {
          if (const Node* a = ne.value.find("aliases")) STACK_COMPOSE_ASSIGN(sn.aliases, read_string_list(*a, np + ".aliases"));
          if (const Node* a = ne.value.find("ipv4_address")) sn.ipv4_address = a->scalar;
          if (const Node* a = ne.value.find("mac_address"))
            STACK_COMPOSE_ASSIGN(sn.mac_address, read_mac(*a, np + ".mac_address"));
          if (const Entry* a = find_entry(ne.value, "ipv6_address")) {
            sn.ipv6_address = a->value.scalar;
            add_warning(warnings, a->mark, np + ".ipv6_address", "not supported by stack yet, ignored: networks are IPv4 only");
          }
          if (const Node* a = ne.value.find("priority")) {
            int64_t pr = 0;
            STACK_COMPOSE_ASSIGN(pr, read_int(*a, np + ".priority"));
            sn.priority = static_cast<int>(pr);
          }
        }
        s.networks[ne.key] = sn;
      }
    } else if (k == "depends_on") {
      for (auto& de : v.entries) {
        Dependency d;
        std::string dp = join_path(p, de.key);
        if (const Node* c = de.value.find("condition")) {
          d.condition = c->scalar;
          if (auto r = parse_dependency_condition(d.condition); !r)
            return fail_at(c->mark, dp + ".condition", r.error().context);
        }
        if (const Node* c = de.value.find("restart")) STACK_COMPOSE_ASSIGN(d.restart, read_bool(*c, dp + ".restart"));
        if (const Node* c = de.value.find("required")) STACK_COMPOSE_ASSIGN(d.required, read_bool(*c, dp + ".required"));
        s.depends_on[de.key] = d;
      }
    } else if (k == "links") {
      STACK_COMPOSE_ASSIGN(s.links, read_string_list(v, p));
      for (size_t i = 0; i < s.links.size(); i++) {
        const auto [target, alias] = split_link(s.links[i]);
        if (target.empty() || alias.empty() || alias.find(':') != std::string::npos)
          return fail_at(v.items[i].mark, item_path(p, i), "\"" + s.links[i] + "\" is not SERVICE or SERVICE:ALIAS");
      }
    } else if (k == "volumes_from") {
      STACK_COMPOSE_ASSIGN(s.volumes_from, read_string_list(v, p));
      for (size_t i = 0; i < s.volumes_from.size(); i++)
        if (auto r = parse_volumes_from(s.volumes_from[i]); !r)
          return fail_at(v.items[i].mark, item_path(p, i), r.error().context);
    } else if (k == "healthcheck") {
      Healthcheck h;
      STACK_COMPOSE_ASSIGN(h, parse_healthcheck(v, p));
      s.healthcheck = h;
    } else if (k == "x-healthcheck") {
      NativeProbe np;
      STACK_COMPOSE_ASSIGN(np, parse_native_probe(v, p));
      s.native_probe = np;
      s.extensions[k] = to_json_text(v);
    } else if (k == "x-autoscale") {
      Autoscale a;
      STACK_COMPOSE_ASSIGN(a, parse_autoscale(v, p));
      s.autoscale = a;
      s.extensions[k] = autoscale_json(a);  // resolved: `stack config` shows the defaults it took
    } else if (k == "x-egress-rate") {
      STACK_COMPOSE_ASSIGN(s.egress_bytes_per_sec, read_bit_rate(v, p));
      s.extensions[k] = to_json_text(v);
    } else if (k == "restart") {
      if (auto r = parse_restart(v.scalar); !r) return fail_at(v.mark, p, r.error().context);
      s.restart = v.scalar;
    } else if (k == "deploy") STACK_COMPOSE_ASSIGN(s.deploy, parse_deploy(v, p, deploy_replicas));
    else if (k == "user") STACK_COMPOSE_ASSIGN(s.user, read_string(v, p));
    else if (k == "working_dir") STACK_COMPOSE_ASSIGN(s.working_dir, read_string(v, p));
    else if (k == "hostname") STACK_COMPOSE_ASSIGN(s.hostname, read_string(v, p));
    else if (k == "domainname") STACK_COMPOSE_ASSIGN(s.domainname, read_string(v, p));
    else if (k == "container_name") STACK_COMPOSE_ASSIGN(s.container_name, read_string(v, p));
    else if (k == "labels") STACK_COMPOSE_ASSIGN(s.labels, read_string_map(v, p));
    else if (k == "cap_add") STACK_COMPOSE_ASSIGN(s.cap_add, read_string_list(v, p));
    else if (k == "cap_drop") STACK_COMPOSE_ASSIGN(s.cap_drop, read_string_list(v, p));
    else if (k == "security_opt") STACK_COMPOSE_ASSIGN(s.security_opt, read_string_list(v, p));
    else if (k == "read_only") STACK_COMPOSE_ASSIGN(s.read_only, read_bool(v, p));
    else if (k == "privileged") STACK_COMPOSE_ASSIGN(s.privileged, read_bool(v, p));
    else if (k == "init") STACK_COMPOSE_ASSIGN(s.init, read_bool(v, p));
    else if (k == "tty") STACK_COMPOSE_ASSIGN(s.tty, read_bool(v, p));
    else if (k == "stdin_open") STACK_COMPOSE_ASSIGN(s.stdin_open, read_bool(v, p));
    else if (k == "stop_signal") {
      STACK_COMPOSE_ASSIGN(s.stop_signal, read_string(v, p));
      if (auto sig = parse_stop_signal(s.stop_signal); !sig) return fail_at(v.mark, p, sig.error().context);
    }
    else if (k == "stop_grace_period") STACK_COMPOSE_ASSIGN(s.stop_grace_period, read_duration(v, p));
    else if (k == "ulimits") {
      for (auto& ue : v.entries) {
        Ulimit u;
        std::string up = join_path(p, ue.key);
        if (ue.value.is_map()) {
          if (const Node* x = ue.value.find("soft")) STACK_COMPOSE_ASSIGN(u.soft, read_int(*x, up + ".soft"));
          if (const Node* x = ue.value.find("hard")) STACK_COMPOSE_ASSIGN(u.hard, read_int(*x, up + ".hard"));
          if (u.soft > u.hard) return fail_at(ue.value.mark, up, "soft limit is above the hard limit");
        } else {
          STACK_COMPOSE_ASSIGN(u.soft, read_int(ue.value, up));
          u.hard = u.soft;
        }
        s.ulimits[ue.key] = u;
      }
    } else if (k == "sysctls") STACK_COMPOSE_ASSIGN(s.sysctls, read_string_map(v, p));
    else if (k == "pids_limit") STACK_TRY(store(s.pids_limit, read_int(v, p)));
    else if (k == "mem_limit") STACK_TRY(store(s.mem_limit, read_size(v, p)));
    else if (k == "shm_size") STACK_TRY(store(s.shm_size, read_size(v, p)));
    else if (k == "cpus") {
      double x = 0;
      STACK_COMPOSE_ASSIGN(x, read_double(v, p));
      if (x < 0) return fail_at(v.mark, p, "must not be negative");
      s.cpus = x;
    } else if (k == "cpu_shares") {
      int64_t x = 0;
      STACK_COMPOSE_ASSIGN(x, read_int(v, p));
      // cgroup v1's range (Docker's too); 0 leaves the default weight.
      if (x != 0 && (x < 2 || x > 262144)) return fail_at(v.mark, p, "must be 0 or 2..262144 (got " + v.scalar + ")");
      s.cpu_shares = x;
    } else if (k == "cpuset") {
      STACK_COMPOSE_ASSIGN(s.cpuset, read_string(v, p));
      if (!valid_cpuset(s.cpuset))
        return fail_at(v.mark, p, "expected CPU numbers and ranges such as \"0-2,4\" (got \"" + s.cpuset + "\")");
    } else if (k == "oom_score_adj") {
      STACK_TRY(store(s.oom_score_adj, read_int(v, p)));
    } else if (k == "scale") {
      int64_t x = 0;
      STACK_COMPOSE_ASSIGN(x, read_int(v, p));
      if (x < 0) return fail_at(v.mark, p, "scale must not be negative (got " + v.scalar + ")");
      s.replicas = static_cast<int>(x);
    } else if (k == "extra_hosts") STACK_COMPOSE_ASSIGN(s.extra_hosts, read_extra_hosts(v, p));
    else if (k == "dns") STACK_COMPOSE_ASSIGN(s.dns, read_string_list(v, p));
    else if (k == "dns_search") STACK_COMPOSE_ASSIGN(s.dns_search, read_string_list(v, p));
    else if (k == "dns_opt") STACK_COMPOSE_ASSIGN(s.dns_opt, read_string_list(v, p));
    else if (k == "devices") {
      for (size_t i = 0; i < v.items.size(); ++i) {
        DeviceMapping d;
        STACK_COMPOSE_ASSIGN(d, parse_device(v.items[i], item_path(p, i)));
        s.devices.push_back(d);
      }
    } else if (k == "network_mode") STACK_COMPOSE_ASSIGN(s.network_mode, read_string(v, p));
    else if (k == "mac_address") STACK_COMPOSE_ASSIGN(s.mac_address, read_mac(v, p));
    else if (k == "profiles") STACK_COMPOSE_ASSIGN(s.profiles, read_string_list(v, p));
    else if (k == "pull_policy") STACK_COMPOSE_ASSIGN(s.pull_policy, read_string(v, p));
    else if (k == "pull_refresh_after") STACK_COMPOSE_ASSIGN(s.pull_refresh_after, read_string(v, p));
    else if (k.rfind("x-", 0) == 0) s.extensions[k] = to_json_text(v);
  }

  // Environment: env_file entries first, then `environment` (a bare KEY takes
  // the caller's value, or is left out).
  if (const Node* ef = n.find("env_file")) STACK_TRY(read_env_files(*ef, P("env_file"), env, s.environment));
  // label_file: env-file syntax; `labels:` wins on equal keys (Compose).
  if (const Node* lf = n.find("label_file")) {
    std::map<std::string, std::string> from_files;
    STACK_TRY(read_env_files(*lf, P("label_file"), env, from_files));
    for (auto& [k, v] : from_files) s.labels.emplace(k, v);
  }
  if (const Node* en = n.find("environment"))
    for (auto& e : en->entries) {
      if (e.value.is_null()) {
        if (auto val = env ? env(e.key) : std::nullopt) s.environment[e.key] = *val;
        else s.environment.erase(e.key);
      } else {
        s.environment[e.key] = e.value.scalar;
      }
    }

  // build: without image: is named <project>-<service> by the loader once the
  // project has its name (build.h).
  if (s.image.empty() && !s.build) return fail_at(n.mark, base, "has neither an image nor a build context specified");
  if (deploy_replicas) s.replicas = *deploy_replicas;
  for (const auto& link : s.links) s.depends_on.emplace(split_link(link).first, Dependency{});
  for (const auto& from : s.volumes_from)
    if (auto r = parse_volumes_from(from); r && !r->container) s.depends_on.emplace(r->name, Dependency{});
  // Joining a service's namespace needs it running first (Compose's rule).
  for (const std::string* mode : {&s.network_mode, &s.pid, &s.ipc})
    if (mode->rfind("service:", 0) == 0) s.depends_on.emplace(mode->substr(8), Dependency{});
  STACK_TRY(check_mode(n, base, s));
  if (!s.pids_limit && s.deploy.limits.pids) s.pids_limit = s.deploy.limits.pids;
  if (!s.mem_limit && s.deploy.limits.memory) s.mem_limit = s.deploy.limits.memory;
  if (!s.cpus && s.deploy.limits.cpus) s.cpus = s.deploy.limits.cpus;
  STACK_TRY(check_tuning(n, base, s));
  if (auto pull = parse_pull_policy(s.pull_policy, s.pull_refresh_after); !pull) {
    const char* field = n.find("pull_policy") ? "pull_policy" : "pull_refresh_after";
    return fail_at(locate(n, {field}), P(field), pull.error().context);
  }
  // As Compose: a memory reservation is also the cgroup's soft limit.
  if (!s.tuning.mem_reservation && s.deploy.reservations.memory) {
    if (s.mem_limit && *s.deploy.reservations.memory > *s.mem_limit)
      return fail_at(locate(n, {"deploy", "resources", "reservations", "memory"}),
                     base + ".deploy.resources.reservations.memory",
                     "must not be above the memory limit");
    s.tuning.mem_reservation = s.deploy.reservations.memory;
  }
  if (s.networks.empty() && s.network_mode.empty()) s.networks["default"] = ServiceNetwork{};
  if (!s.network_mode.empty() && n.find("networks") != nullptr)
    return fail_at(n.find("network_mode")->mark, P("network_mode"), "network_mode and networks cannot be combined");
  return s;
}

}  // namespace stack::compose
