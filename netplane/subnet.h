// IP addresses and CIDR subnets as plain values. Pure code: no syscalls, no
// allocation beyond strings. IPv4 is complete (host ranges, splitting a pool
// into subnets); IPv6 is parsed, printed and compared for containment and
// overlap so user input can be validated, but IPAM leases only IPv4.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace stack::net {

enum class Family : uint8_t { v4, v6 };

// An address in network byte order; an IPv4 address uses bytes[0..3] and
// leaves the rest zero so that == and <=> compare like values.
struct IpAddr {
  Family family = Family::v4;
  std::array<uint8_t, 16> bytes{};

  // "10.89.0.2" or "fd00::1"; errors read `invalid address "x": ...`.
  static stack::Result<IpAddr> parse(std::string_view text);
  static IpAddr v4(uint32_t host_order);

  bool is_v4() const { return family == Family::v4; }
  // Host-order value of an IPv4 address (0 for IPv6).
  uint32_t v4_value() const;
  std::string str() const;

  auto operator<=>(const IpAddr&) const = default;
  bool operator==(const IpAddr&) const = default;
};

class Subnet {
 public:
  Subnet() = default;

  // "10.89.0.0/24" or "fd00:1::/64". Host bits must be zero (Docker rejects
  // "10.89.0.5/24" too, since the user almost certainly typed the wrong
  // thing). Errors read `invalid subnet "x": <reason>`.
  static stack::Result<Subnet> parse(std::string_view cidr);
  // Masks host bits off `addr`; prefix must be valid for the family.
  static Subnet of(const IpAddr& addr, int prefix);

  Family family() const { return network_.family; }
  const IpAddr& network() const { return network_; }
  int prefix() const { return prefix_; }
  int max_prefix() const { return family() == Family::v4 ? 32 : 128; }
  std::string str() const;  // "10.89.0.0/24"

  bool contains(const IpAddr& addr) const;
  bool contains(const Subnet& other) const;
  // Two CIDR blocks overlap exactly when one contains the other.
  bool overlaps(const Subnet& other) const;

  // IPv4 only (callers check family()). For prefixes up to /30 the host
  // range excludes the network and broadcast addresses; /31 and /32 follow
  // RFC 3021 and have every address as a host and no broadcast of their own.
  IpAddr broadcast() const;   // last address of the block
  IpAddr first_host() const;
  IpAddr last_host() const;
  IpAddr gateway() const { return first_host(); }  // Docker's default gateway
  uint64_t host_count() const;

  // Splitting an IPv4 block into blocks of `new_prefix` (>= prefix()), in
  // address order: how many there are and the i-th of them. Index-based so a
  // large pool (10.0.0.0/8 into /24s) is never materialised as a list.
  uint64_t subnet_count(int new_prefix) const;
  Subnet nth_subnet(int new_prefix, uint64_t index) const;

  bool operator==(const Subnet&) const = default;

 private:
  IpAddr network_;
  int prefix_ = 0;
};

}  // namespace stack::net
