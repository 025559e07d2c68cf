#include "netplane/etc_files.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "base/fd.h"

namespace stack::net {
namespace {

bool is_ip(const std::string& s) {
  in6_addr a6{};
  in_addr a4{};
  return ::inet_pton(AF_INET, s.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

// A name we put in a file: no whitespace or comment character that would
// split or cut the line.
bool valid_token(const std::string& s) {
  return !s.empty() && std::none_of(s.begin(), s.end(), [](unsigned char c) {
    return c <= ' ' || c == '#' || c == ';' || c == 0x7F;
  });
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool is_loopback(const std::string& ns) { return ns.rfind("127.", 0) == 0 || ns == "::1"; }

stack::Result<void> check_entries(const std::vector<std::string>& entries, const char* field, bool ip) {
  for (const auto& e : entries)
    if (ip ? !is_ip(e) : !valid_token(e))
      return stack::fail(std::string(field) + ": " + quoted(e) + (ip ? " is not an IP address" : " is not a valid entry"),
                      EINVAL);
  return {};
}

}  // namespace

stack::Result<std::string> build_hosts(const HostsSpec& spec) {
  std::string out =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\n"
      "ff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n";
  for (const auto& entry : spec.extra_hosts) {
    auto sep = entry.find('=');
    if (sep == std::string::npos) sep = entry.find(':');
    if (sep == std::string::npos)
      return stack::fail("extra_hosts: " + quoted(entry) + ": want \"name:ip\"", EINVAL);
    std::string name = entry.substr(0, sep);
    std::string ip = entry.substr(sep + 1);
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (ip == "host-gateway") {
      if (spec.host_gateway.empty())
        return stack::fail("extra_hosts: " + quoted(entry) + ": host-gateway has no address here", EINVAL);
      ip = spec.host_gateway;
    }
    if (!valid_token(name)) return stack::fail("extra_hosts: " + quoted(entry) + ": bad host name", EINVAL);
    if (!is_ip(ip)) return stack::fail("extra_hosts: " + quoted(entry) + ": " + quoted(ip) + " is not an IP address", EINVAL);
    out += ip + "\t" + name + "\n";
  }
  if (!spec.address.empty()) {
    if (!is_ip(spec.address)) return stack::fail("hosts: address " + quoted(spec.address) + " is not an IP address", EINVAL);
    if (!valid_token(spec.hostname)) return stack::fail("hostname: " + quoted(spec.hostname) + " is not valid", EINVAL);
    STACK_TRY(check_entries(spec.aliases, "aliases", false));
    std::vector<std::string> names;
    if (!spec.domainname.empty()) {
      if (!valid_token(spec.domainname))
        return stack::fail("domainname: " + quoted(spec.domainname) + " is not valid", EINVAL);
      names.push_back(spec.hostname + "." + spec.domainname);
    }
    names.push_back(spec.hostname);
    for (const auto& a : spec.aliases)
      if (std::find(names.begin(), names.end(), a) == names.end()) names.push_back(a);
    out += spec.address + "\t";
    for (size_t i = 0; i < names.size(); ++i) out += (i ? " " : "") + names[i];
    out += "\n";
  }
  return out;
}

ResolvConf parse_resolv_conf(std::string_view text) {
  ResolvConf conf;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    auto w = words(line);
    if (w.empty() || w[0][0] == '#' || w[0][0] == ';') continue;
    std::vector<std::string> args(w.begin() + 1, w.end());
    if (w[0] == "nameserver" && !args.empty())
      conf.nameservers.push_back(args[0]);
    else if (w[0] == "search" || w[0] == "domain")
      conf.search = args;
    else if (w[0] == "options")
      conf.options.insert(conf.options.end(), args.begin(), args.end());
  }
  return conf;
}

std::string render_resolv_conf(const ResolvConf& conf) {
  std::string out;
  for (const auto& ns : conf.nameservers) out += "nameserver " + ns + "\n";
  auto line = [&](const char* key, const std::vector<std::string>& v) {
    if (v.empty()) return;
    out += key;
    for (const auto& s : v) out += " " + s;
    out += "\n";
  };
  line("search", conf.search);
  line("options", conf.options);
  return out;
}

stack::Result<std::string> build_resolv_conf(const ResolvSpec& spec) {
  STACK_TRY(check_entries(spec.dns, "dns", true));
  STACK_TRY(check_entries(spec.dns_search, "dns_search", false));
  STACK_TRY(check_entries(spec.dns_opt, "dns_opt", false));
  ResolvConf conf = parse_resolv_conf(spec.host_resolv_conf);
  switch (spec.mode) {
    case ResolvMode::Bridge:
      if (spec.dns.empty() && !is_ip(spec.gateway))
        return stack::fail("resolv.conf: gateway " + quoted(spec.gateway) + " is not an IP address", EINVAL);
      conf.nameservers = {spec.gateway};
      break;
    case ResolvMode::Host:
      break;
    case ResolvMode::None:
      std::erase_if(conf.nameservers, is_loopback);
      break;
  }
  if (!spec.dns.empty()) conf.nameservers = spec.dns;
  if (!spec.dns_search.empty()) conf.search = spec.dns_search;
  if (!spec.dns_opt.empty()) conf.options = spec.dns_opt;
  if (spec.mode == ResolvMode::Bridge &&
      std::none_of(conf.options.begin(), conf.options.end(), [](const std::string& o) { return o.rfind("ndots:", 0) == 0; }))
    conf.options.push_back("ndots:0");
  return render_resolv_conf(conf);
}

stack::Result<std::string> build_hostname(const std::string& hostname) {
  bool ok = !hostname.empty() && hostname.size() <= 64 && std::all_of(hostname.begin(), hostname.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
  if (!ok) return stack::fail("hostname: " + quoted(hostname) + " is not valid (1-64 of [A-Za-z0-9._-])", EINVAL);
  return hostname + "\n";
}

}  // namespace stack::net
