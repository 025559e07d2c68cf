// A container's /etc/hosts, /etc/resolv.conf and /etc/hostname: pure text
// builders (what Docker writes, adapted to our resolver on the gateway) plus
// the write helper. The daemon writes the files into the container's
// directory and the spec bind-mounts them over the image's.
//
// Bad input (an extra_hosts entry without an address, a dns server that is
// not an IP, a hostname with spaces) is an error naming the field and the
// entry; nothing is written.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "base/io.h"
#include "base/error.h"

namespace stack::net {

// ---- /etc/hosts --------------------------------------------------------------

struct HostsSpec {
  std::string address;     // the container's IPv4 on its first network; "" = none (network_mode none)
  std::string hostname;    // e.g. the short container id, or compose `hostname:`
  std::string domainname;  // compose `domainname:`; "" = none
  std::vector<std::string> aliases;      // more names for `address` (container name, service, ...)
  std::vector<std::string> extra_hosts;  // compose extra_hosts, "name:ip" (also "name=ip"); ip may
                                         // be "host-gateway"; IPv6 after the first ':' ("h:::1")
  std::string host_gateway;  // replaces "host-gateway" (the network's gateway); "" = such an entry is an error
};

// Docker's layout:
//   127.0.0.1  localhost
//   ::1        localhost ip6-localhost ip6-loopback
//   fe00::0 ip6-localnet / ff00::0 ip6-mcastprefix / ff02::1 ip6-allnodes / ff02::2 ip6-allrouters
//   <ip>\t<name>           one line per extra_hosts entry, in order
//   <address>\t<hostname.domainname> <hostname> <aliases...>   (when address is set)
stack::Result<std::string> build_hosts(const HostsSpec& spec);

// ---- /etc/resolv.conf --------------------------------------------------------

struct ResolvConf {
  std::vector<std::string> nameservers;  // as written: "10.0.0.2", "::1"
  std::vector<std::string> search;       // from the last `search` or `domain` line (glibc's rule)
  std::vector<std::string> options;      // every `options` token, in order
};

// Lenient, like glibc: unknown lines and comments ('#', ';') are ignored.
ResolvConf parse_resolv_conf(std::string_view text);
// "nameserver X" lines, then "search ..." and "options ..." when non-empty.
std::string render_resolv_conf(const ResolvConf& conf);

enum class ResolvMode {
  Bridge,  // our resolver: nameserver = the network's gateway
  Host,    // network_mode host: the host's file
  None,    // network_mode none: the host's file without loopback nameservers
};

struct ResolvSpec {
  ResolvMode mode = ResolvMode::Bridge;
  std::string gateway;                  // Bridge: where our DNS server listens
  std::string host_resolv_conf;         // the host's /etc/resolv.conf text (search/options are inherited)
  std::vector<std::string> dns;         // compose `dns:` replaces the nameservers (any mode)
  std::vector<std::string> dns_search;  // compose `dns_search:` replaces `search`
  std::vector<std::string> dns_opt;     // compose `dns_opt:` replaces `options`
};

// Bridge also adds "options ndots:0" unless an ndots option is given, as
// Docker does for its embedded resolver: "web" is asked for as is first, not
// after every search domain.
stack::Result<std::string> build_resolv_conf(const ResolvSpec& spec);

// ---- /etc/hostname -----------------------------------------------------------

// "<hostname>\n". Error unless 1..64 chars of [A-Za-z0-9.-_] (no spaces).
stack::Result<std::string> build_hostname(const std::string& hostname);

// Writing: write_file_atomic / write_file_in_place from base/io.h.

}  // namespace stack::net
