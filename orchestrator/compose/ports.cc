#include "orchestrator/compose/ports.h"

#include <arpa/inet.h>

#include <cctype>

namespace stack::compose {

namespace {

stack::Result<uint16_t> parse_port(const std::string& text, const std::string& whole) {
  if (text.empty() || text.size() > 6) return stack::fail("invalid port \"" + whole + "\": expected a port number");
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return stack::fail("invalid port \"" + whole + "\": \"" + text + "\" is not a port number");
  long v = std::stol(text);
  if (v < 1 || v > 65535) return stack::fail("invalid port \"" + whole + "\": " + text + " is not in 1-65535");
  return static_cast<uint16_t>(v);
}

stack::Result<std::pair<uint16_t, uint16_t>> range_of(const std::string& text, const std::string& whole) {
  auto dash = text.find('-');
  auto a = parse_port(text.substr(0, dash), whole);
  if (!a) return tl::unexpected(a.error());
  if (dash == std::string::npos) return std::make_pair(*a, *a);
  auto b = parse_port(text.substr(dash + 1), whole);
  if (!b) return tl::unexpected(b.error());
  if (*b < *a) return stack::fail("invalid port \"" + whole + "\": range " + text + " ends before it starts");
  return std::make_pair(*a, *b);
}

}  // namespace

stack::Result<std::pair<uint16_t, uint16_t>> parse_port_range(const std::string& text) { return range_of(text, text); }

stack::Result<void> check_protocol(const std::string& protocol) {
  if (protocol == "tcp" || protocol == "udp") return {};
  return stack::fail("unsupported protocol \"" + protocol + "\" (tcp or udp)");
}

stack::Result<std::string> canonical_host_ip(const std::string& text) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  int af = text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (inet_pton(af, text.c_str(), buf) != 1 || !inet_ntop(af, buf, out, sizeof out))
    return stack::fail("host address \"" + text + "\" is not an " + (af == AF_INET6 ? "IPv6" : "IPv4") + " address");
  return std::string(out);
}

stack::Result<PortSpec> parse_port_short(const std::string& text) {
  PortSpec p;
  std::string s = text;
  if (auto slash = s.rfind('/'); slash != std::string::npos) {
    p.protocol = s.substr(slash + 1);
    s = s.substr(0, slash);
    if (auto r = check_protocol(p.protocol); !r) return stack::fail("invalid port \"" + text + "\": " + r.error().context);
  }
  std::string host_ip;
  if (!s.empty() && s[0] == '[') {  // [v6]:host:container
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return stack::fail("invalid port \"" + text + "\": expected [IPv6]:HOST:CONTAINER");
    host_ip = s.substr(1, close - 1);
    if (host_ip.find(':') == std::string::npos)
      return stack::fail("invalid port \"" + text + "\": host address \"" + host_ip + "\" is not an IPv6 address");
    auto ip = canonical_host_ip(host_ip);
    if (!ip) return stack::fail("invalid port \"" + text + "\": " + ip.error().context);
    host_ip = *ip;
    s = s.substr(close + 2);
    if (s.find(':') == std::string::npos) s = ":" + s;  // "[::1]:80" would be ambiguous; treat as no host port
  }
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == ':') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  std::string published, target;
  if (parts.size() == 1) {
    target = parts[0];
  } else if (parts.size() == 2) {
    published = parts[0];
    target = parts[1];
  } else if (host_ip.empty()) {
    // As Docker splits it (go-connections' splitParts): the last two fields
    // are the ports, everything before them the host address, so an
    // unbracketed IPv6 address works too ("::1:8080:80").
    published = parts[parts.size() - 2];
    target = parts.back();
    for (size_t i = 0; i + 2 < parts.size(); ++i) host_ip += (i ? ":" : "") + parts[i];
    auto ip = canonical_host_ip(host_ip);
    if (!ip) return stack::fail("invalid port \"" + text + "\": " + ip.error().context);
    host_ip = *ip;
  } else {
    return stack::fail("invalid port \"" + text + "\": expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]");
  }
  auto t = range_of(target, text);
  if (!t) return tl::unexpected(t.error());
  p.target = t->first;
  p.target_end = t->second;
  p.host_ip = host_ip;
  if (published.empty()) {
    p.published_auto = true;
  } else {
    auto h = range_of(published, text);
    if (!h) return tl::unexpected(h.error());
    p.published = h->first;
    p.published_end = h->second;
    // A host range over one container port picks one host port, as Docker
    // does; two ranges must have the same length.
    if (t->second != t->first && (h->second - h->first) != (t->second - t->first))
      return stack::fail("invalid port \"" + text + "\": host and container ranges differ in length");
  }
  return p;
}

std::string port_to_string(const PortSpec& p) {
  auto range = [](uint16_t a, uint16_t b) { return std::to_string(a) + (b != a ? "-" + std::to_string(b) : ""); };
  std::string s;
  if (!p.host_ip.empty()) s += (p.host_ip.find(':') != std::string::npos ? "[" + p.host_ip + "]" : p.host_ip) + ":";
  if (p.published) s += range(p.published, p.published_end) + ":";
  else if (!p.host_ip.empty()) s += ":";
  s += range(p.target, p.target_end);
  if (p.protocol != "tcp") s += "/" + p.protocol;
  return s;
}

}  // namespace stack::compose
