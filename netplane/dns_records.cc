#include "netplane/dns_records.h"

#include <arpa/inet.h>

#include <algorithm>

namespace stack::net {

std::string normalize_dns_name(std::string_view name) {
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void DnsRecordTable::upsert(const DnsRecord& record) {
  std::lock_guard lock(mu_);
  std::string old_network;
  if (auto it = by_key_.find(record.key); it != by_key_.end()) old_network = it->second.network;
  by_key_[record.key] = record;
  if (!old_network.empty() && old_network != record.network) rebuild(old_network);
  rebuild(record.network);
}

void DnsRecordTable::remove(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return;
  std::string network = it->second.network;
  by_key_.erase(it);
  rebuild(network);
}

void DnsRecordTable::remove_network(const std::string& network) {
  std::lock_guard lock(mu_);
  std::erase_if(by_key_, [&](const auto& kv) { return kv.second.network == network; });
  index_.erase(network);
}

std::vector<DnsRecord> DnsRecordTable::records(const std::string& network) const {
  std::lock_guard lock(mu_);
  std::vector<DnsRecord> out;
  for (const auto& [key, rec] : by_key_)
    if (rec.network == network) out.push_back(rec);
  return out;
}

void DnsRecordTable::rebuild(const std::string& network) {
  Index fresh;
  for (const auto& [key, rec] : by_key_) {
    if (rec.network != network) continue;
    in_addr addr{};
    bool valid = ::inet_pton(AF_INET, rec.ipv4.c_str(), &addr) == 1;
    for (const auto& raw : rec.names) {
      std::string name = normalize_dns_name(raw);
      if (name.empty()) continue;
      auto& addrs = fresh.names[name];
      if (valid && std::find(addrs.begin(), addrs.end(), addr.s_addr) == addrs.end()) addrs.push_back(addr.s_addr);
    }
  }
  for (const auto& [name, addrs] : fresh.names) {
    auto dot = name.rfind('.');
    if (dot == std::string::npos) continue;
    std::string suffix = name.substr(dot + 1);
    if (fresh.names.count(name.substr(0, dot)) || fresh.names.count(suffix)) fresh.owned_suffixes.insert(suffix);
  }
  auto& slot = index_[network];
  for (const auto& [name, count] : slot.rotation)
    if (fresh.names.count(name)) fresh.rotation.emplace(name, count);
  if (fresh.names.empty())
    index_.erase(network);
  else
    slot = std::move(fresh);
}

DnsRecordTable::Lookup DnsRecordTable::lookup(const std::string& network, const std::string& name) {
  std::lock_guard lock(mu_);
  bool single_label = !name.empty() && name.find('.') == std::string::npos;
  auto net = index_.find(network);
  if (net == index_.end()) return {single_label ? Verdict::NxDomain : Verdict::Forward, {}};
  Index& index = net->second;
  if (auto it = index.names.find(name); it != index.names.end()) {
    const auto& addrs = it->second;
    Lookup out{Verdict::Found, {}};
    if (addrs.empty()) return out;
    uint64_t start = index.rotation[name]++ % addrs.size();
    out.ipv4.reserve(addrs.size());
    for (size_t i = 0; i < addrs.size(); ++i) out.ipv4.push_back(addrs[(start + i) % addrs.size()]);
    return out;
  }
  if (single_label) return {Verdict::NxDomain, {}};
  auto dot = name.rfind('.');
  if (dot != std::string::npos && index.owned_suffixes.count(name.substr(dot + 1))) return {Verdict::NxDomain, {}};
  return {Verdict::Forward, {}};
}

}  // namespace stack::net
