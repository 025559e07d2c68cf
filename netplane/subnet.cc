#include "netplane/subnet.h"

#include <arpa/inet.h>

#include <cstring>

namespace stack::net {

namespace {

// Mask with the top `prefix` bits of an IPv4 address set (host order).
uint32_t v4_mask(int prefix) {
  return prefix == 0 ? 0u : ~uint32_t{0} << (32 - prefix);
}

// Parses a decimal prefix length: digits only, no sign, no leading zeros
// beyond "0" itself, at most `max`.
bool parse_prefix(std::string_view s, int max, int& out) {
  if (s.empty() || s.size() > 3) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

// Zeroes every bit of `a` past the first `prefix` bits.
IpAddr mask(IpAddr a, int prefix) {
  int nbytes = a.is_v4() ? 4 : 16;
  for (int i = 0; i < nbytes; i++) {
    int keep = prefix - i * 8;
    if (keep >= 8) continue;
    a.bytes[i] = keep <= 0 ? 0 : static_cast<uint8_t>(a.bytes[i] & (0xff << (8 - keep)));
  }
  return a;
}

}  // namespace

stack::Result<IpAddr> IpAddr::parse(std::string_view text) {
  std::string s(text);
  auto bad = [&](const std::string& why) {
    return stack::fail("invalid address \"" + s + "\": " + why);
  };
  if (s.empty()) return bad("empty");
  IpAddr a;
  if (s.find(':') != std::string::npos) {
    a.family = Family::v6;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return bad("not an IPv6 address");
    return a;
  }
  a.family = Family::v4;
  // glibc's inet_pton accepts only four decimal octets without leading
  // zeros, which is the strict form we want (no "10.1", no octal).
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1)
    return bad("not a dotted-quad IPv4 address");
  return a;
}

IpAddr IpAddr::v4(uint32_t host_order) {
  IpAddr a;
  a.family = Family::v4;
  a.bytes[0] = static_cast<uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<uint8_t>(host_order);
  return a;
}

uint32_t IpAddr::v4_value() const {
  if (!is_v4()) return 0;
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 |
         uint32_t{bytes[3]};
}

std::string IpAddr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

stack::Result<Subnet> Subnet::parse(std::string_view cidr) {
  std::string s(cidr);
  auto bad = [&](const std::string& why) {
    return stack::fail("invalid subnet \"" + s + "\": " + why);
  };
  auto slash = s.find('/');
  if (slash == std::string::npos) return bad("missing /prefix (e.g. 10.89.0.0/24)");
  auto addr = IpAddr::parse(std::string_view(s).substr(0, slash));
  if (!addr) return bad("bad address \"" + s.substr(0, slash) + "\"");
  int max = addr->is_v4() ? 32 : 128;
  int prefix = 0;
  if (!parse_prefix(std::string_view(s).substr(slash + 1), max, prefix))
    return bad("prefix must be a number from 0 to " + std::to_string(max));
  Subnet n = Subnet::of(*addr, prefix);
  if (n.network_ != *addr) return bad("host bits are set (did you mean " + n.str() + "?)");
  return n;
}

Subnet Subnet::of(const IpAddr& addr, int prefix) {
  Subnet n;
  n.prefix_ = prefix;
  n.network_ = mask(addr, prefix);
  return n;
}

std::string Subnet::str() const { return network_.str() + "/" + std::to_string(prefix_); }

bool Subnet::contains(const IpAddr& addr) const {
  if (addr.family != family()) return false;
  return mask(addr, prefix_) == network_;
}

bool Subnet::contains(const Subnet& other) const {
  return other.family() == family() && other.prefix_ >= prefix_ && contains(other.network_);
}

bool Subnet::overlaps(const Subnet& other) const {
  return contains(other) || other.contains(*this);
}

IpAddr Subnet::broadcast() const {
  return IpAddr::v4(network_.v4_value() | ~v4_mask(prefix_));
}

IpAddr Subnet::first_host() const {
  if (prefix_ >= 31) return network_;
  return IpAddr::v4(network_.v4_value() + 1);
}

IpAddr Subnet::last_host() const {
  if (prefix_ >= 31) return broadcast();
  return IpAddr::v4(broadcast().v4_value() - 1);
}

uint64_t Subnet::host_count() const {
  uint64_t size = uint64_t{1} << (32 - prefix_);
  return prefix_ >= 31 ? size : size - 2;
}

uint64_t Subnet::subnet_count(int new_prefix) const {
  if (!network_.is_v4() || new_prefix < prefix_ || new_prefix > 32) return 0;
  return uint64_t{1} << (new_prefix - prefix_);
}

Subnet Subnet::nth_subnet(int new_prefix, uint64_t index) const {
  uint64_t step = uint64_t{1} << (32 - new_prefix);
  return Subnet::of(IpAddr::v4(static_cast<uint32_t>(network_.v4_value() + index * step)),
                    new_prefix);
}

}  // namespace stack::net
