// The resolver's record table: DnsRecords by key, indexed per network for
// lookups. Pure and thread-safe (one mutex; a lookup is a hash probe and a
// copy of a few addresses, so the listeners' threads barely contend).
//
// Policy (what lookup() decides for a query on network N, N's records only):
//  - a name some record of N carries -> its addresses, every record's, in an
//    order rotated by one on each lookup (round robin across replicas);
//  - otherwise the name is "ours" -> NXDOMAIN when it is a single label
//    ("nope"), or when its last label is an owned suffix of N: a label L such
//    that a record of N is named "<x>.L" where <x> or L is itself a name of
//    N ("web.mystack" owns "mystack" as "web" is a name; "1.web" owns "web"
//    as "web" is a name). This is narrower than "every last label": an
//    alias such as "api.example.com" must not make all of ".com" NXDOMAIN;
//  - anything else is forwarded upstream.
// Names are matched case-insensitively, with or without a trailing dot.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "netplane/dns_server.h"

namespace stack::net {

// "Web.MyStack." -> "web.mystack"
std::string normalize_dns_name(std::string_view name);

class DnsRecordTable {
 public:
  enum class Verdict { Found, NxDomain, Forward };
  struct Lookup {
    Verdict verdict = Verdict::Forward;
    std::vector<uint32_t> ipv4;  // network byte order, rotated; Found only
  };

  // Adds or replaces the record with this key. A record whose ipv4 is not a
  // dotted quad is stored (records() returns it) but resolves to nothing.
  void upsert(const DnsRecord& record);
  void remove(const std::string& key);
  void remove_network(const std::string& network);
  // The records of `network`, ordered by key.
  std::vector<DnsRecord> records(const std::string& network) const;

  // `name` in lookup form (dns_message.h lookup_name(): lower case, no
  // trailing dot). Advances the name's round-robin position.
  Lookup lookup(const std::string& network, const std::string& name);

 private:
  struct Index {
    // name -> addresses, in key order; rotation counters survive rebuilds.
    std::unordered_map<std::string, std::vector<uint32_t>> names;
    std::set<std::string> owned_suffixes;
    std::unordered_map<std::string, uint64_t> rotation;
  };
  void rebuild(const std::string& network);  // mu_ held

  mutable std::mutex mu_;
  std::map<std::string, DnsRecord> by_key_;
  std::unordered_map<std::string, Index> index_;  // by network
};

}  // namespace stack::net
