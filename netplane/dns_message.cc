#include "netplane/dns_message.h"

#include <algorithm>

namespace stack::net::dns {
namespace {

constexpr size_t kMaxName = 255;   // wire length of a name (RFC 1035 2.3.4)
constexpr size_t kMaxLabel = 63;
// Pointers per name. Going strictly backwards ends every walk, but a chain of
// pointers to pointers costs one step each: a 64 KiB TCP message with an
// 8K-long chain and 4K records naming its end took 32M steps to parse. A real
// name has at most 127 labels, so it never needs more jumps than that.
constexpr size_t kMaxJumps = 127;

// Bounds-checked big-endian reader over the packet.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> p) : p_(p) {}
  size_t pos() const { return pos_; }
  bool u8(uint8_t& v) {
    if (pos_ + 1 > p_.size()) return false;
    v = p_[pos_++];
    return true;
  }
  bool u16(uint16_t& v) {
    if (pos_ + 2 > p_.size()) return false;
    v = static_cast<uint16_t>(p_[pos_] << 8 | p_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool skip(size_t n) {
    if (pos_ + n > p_.size()) return false;
    pos_ += n;
    return true;
  }
  // A possibly compressed name. A pointer must point before the label that
  // holds it, so every jump goes strictly backwards and the walk ends.
  stack::Result<void> name(std::vector<std::string>* labels) {
    size_t at = pos_;
    size_t wire = 0;
    bool jumped = false;
    size_t jumps = 0;
    for (;;) {
      if (at >= p_.size()) return stack::fail("truncated name");
      uint8_t len = p_[at];
      if ((len & 0xC0) == 0xC0) {
        if (at + 1 >= p_.size()) return stack::fail("truncated compression pointer");
        size_t target = static_cast<size_t>(len & 0x3F) << 8 | p_[at + 1];
        if (target >= at) return stack::fail("compression pointer does not point backwards");
        if (++jumps > kMaxJumps) return stack::fail("more than 127 compression pointers in one name");
        if (!jumped) pos_ = at + 2;
        jumped = true;
        at = target;
        continue;
      }
      if ((len & 0xC0) != 0) return stack::fail("unsupported label type");
      wire += 1 + len;
      if (wire > kMaxName) return stack::fail("name longer than 255 bytes");
      if (len == 0) {
        if (!jumped) pos_ = at + 1;
        return {};
      }
      if (at + 1 + len > p_.size()) return stack::fail("truncated label");
      if (labels) labels->emplace_back(reinterpret_cast<const char*>(&p_[at + 1]), len);
      at += 1 + len;
    }
  }

 private:
  std::span<const uint8_t> p_;
  size_t pos_ = 0;
};

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xFF));
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v & 0xFFFF));
}

void put_header(std::vector<uint8_t>& out, uint16_t id, uint8_t flags_hi, uint8_t flags_lo, uint16_t qd,
                uint16_t an, uint16_t ar) {
  put16(out, id);
  out.push_back(flags_hi);
  out.push_back(flags_lo);
  put16(out, qd);
  put16(out, an);
  put16(out, 0);  // authority
  put16(out, ar);
}

struct Header {
  uint16_t id = 0;
  uint8_t hi = 0, lo = 0;  // flag bytes: QR opcode AA TC RD | RA Z AD CD rcode
  uint16_t qd = 0, an = 0, ns = 0, ar = 0;
};

bool read_header(Reader& r, Header& h) {
  return r.u16(h.id) && r.u8(h.hi) && r.u8(h.lo) && r.u16(h.qd) && r.u16(h.an) && r.u16(h.ns) && r.u16(h.ar);
}

}  // namespace

stack::Result<Query> parse_query(std::span<const uint8_t> packet) {
  Reader r(packet);
  Query q;
  Header h;
  if (!read_header(r, h)) return stack::fail("dns: packet shorter than a header");
  auto [id, hi, lo, qd, an, ns, ar] = h;
  q.id = id;
  if (hi & 0x80) return stack::fail("dns: not a query (QR set)");
  q.opcode = (hi >> 3) & 0x0F;
  q.recursion_desired = hi & 0x01;
  q.checking_disabled = lo & 0x10;
  if (qd != 1) return stack::fail("dns: " + std::to_string(qd) + " questions (want 1)");
  if (auto n = r.name(&q.labels); !n) return tl::unexpected(n.error().wrap("dns: question"));
  if (std::any_of(q.labels.begin(), q.labels.end(), [](const std::string& l) { return l.size() > kMaxLabel; }))
    return stack::fail("dns: question: label longer than 63 bytes");
  if (!r.u16(q.qtype) || !r.u16(q.qclass)) return stack::fail("dns: truncated question");
  // Answer and authority records are unexpected in a query but harmless;
  // the additional section may carry the OPT record.
  unsigned records = unsigned{an} + ns + ar;
  for (unsigned i = 0; i < records; ++i) {
    std::vector<std::string> owner;
    uint16_t type = 0, cls = 0, rdlen = 0;
    if (auto n = r.name(&owner); !n) return tl::unexpected(n.error().wrap("dns: record " + std::to_string(i)));
    if (!r.u16(type) || !r.u16(cls) || !r.skip(4) || !r.u16(rdlen) || !r.skip(rdlen))
      return stack::fail("dns: truncated record " + std::to_string(i));
    if (type == kTypeOPT) {
      if (i < unsigned{an} + ns) return stack::fail("dns: OPT record outside the additional section");
      if (!owner.empty()) return stack::fail("dns: OPT record with a non-root owner");
      if (q.edns_udp_size) return stack::fail("dns: more than one OPT record");
      q.edns_udp_size = cls;
    }
  }
  return q;
}

std::optional<std::string> lookup_name(const Query& query) {
  std::string out;
  for (const auto& label : query.labels) {
    if (label.find('.') != std::string::npos || label.find('\0') != std::string::npos) return std::nullopt;
    if (!out.empty()) out += '.';
    for (char c : label) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

size_t udp_limit(const Query& query) {
  if (!query.edns_udp_size) return kClassicUdpLimit;
  return std::clamp<size_t>(*query.edns_udp_size, kClassicUdpLimit, 4096);
}

std::vector<uint8_t> build_response(const Query& query, Rcode rcode, std::span<const uint32_t> ipv4,
                                    size_t max_size) {
  size_t question = 4 + 1;  // type, class, root label
  for (const auto& l : query.labels) question += 1 + l.size();
  constexpr size_t kARecord = 2 + 10 + 4;  // pointer, type/class/ttl/rdlen, address
  constexpr size_t kOpt = 11;
  size_t opt = query.edns_udp_size ? kOpt : 0;
  size_t answers = std::min<size_t>(ipv4.size(), 0xFFFF);
  bool truncated = kHeaderSize + question + answers * kARecord + opt > max_size;
  if (truncated) answers = 0;

  std::vector<uint8_t> out;
  out.reserve(kHeaderSize + question + answers * kARecord + opt);
  uint8_t hi = static_cast<uint8_t>(0x80 | (query.opcode & 0x0F) << 3 | 0x04 /* AA */ |
                                    (truncated ? 0x02 : 0) | (query.recursion_desired ? 0x01 : 0));
  uint8_t lo = static_cast<uint8_t>(0x80 /* RA */ | (query.checking_disabled ? 0x10 : 0) |
                                    (static_cast<uint8_t>(rcode) & 0x0F));
  put_header(out, query.id, hi, lo, 1, static_cast<uint16_t>(answers), opt ? 1 : 0);
  for (const auto& l : query.labels) {
    out.push_back(static_cast<uint8_t>(l.size()));
    out.insert(out.end(), l.begin(), l.end());
  }
  out.push_back(0);
  put16(out, query.qtype);
  put16(out, query.qclass);
  for (size_t i = 0; i < answers; ++i) {
    put16(out, 0xC000 | kHeaderSize);  // the question's name
    put16(out, kTypeA);
    put16(out, kClassIN);
    put32(out, 0);  // TTL 0: records change with every replica start/stop
    put16(out, 4);
    const auto* b = reinterpret_cast<const uint8_t*>(&ipv4[i]);  // already network order
    out.insert(out.end(), b, b + 4);
  }
  if (opt) {
    out.push_back(0);  // root owner
    put16(out, kTypeOPT);
    put16(out, kOurEdnsSize);
    put32(out, 0);  // extended rcode 0, version 0, no DO
    put16(out, 0);
  }
  return out;
}

std::optional<std::vector<uint8_t>> build_format_error(std::span<const uint8_t> packet) {
  if (packet.size() < kHeaderSize || (packet[2] & 0x80)) return std::nullopt;
  std::vector<uint8_t> out;
  uint8_t hi = static_cast<uint8_t>(0x80 | (packet[2] & 0x78) | (packet[2] & 0x01));
  put_header(out, packet_id(packet), hi, 0x80 | static_cast<uint8_t>(Rcode::FormErr), 0, 0, 0);
  return out;
}

uint16_t packet_id(std::span<const uint8_t> packet) {
  if (packet.size() < 2) return 0;
  return static_cast<uint16_t>(packet[0] << 8 | packet[1]);
}

std::vector<uint8_t> build_query(std::string_view name, uint16_t qtype, uint16_t id,
                                 std::optional<uint16_t> edns_udp_size) {
  std::vector<uint8_t> out;
  put_header(out, id, 0x01 /* RD */, 0, 1, 0, edns_udp_size ? 1 : 0);
  while (!name.empty()) {
    auto dot = name.find('.');
    auto label = name.substr(0, std::min(dot, kMaxLabel));
    if (!label.empty()) {
      out.push_back(static_cast<uint8_t>(label.size()));
      out.insert(out.end(), label.begin(), label.end());
    }
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out.push_back(0);
  put16(out, qtype);
  put16(out, kClassIN);
  if (edns_udp_size) {
    out.push_back(0);
    put16(out, kTypeOPT);
    put16(out, *edns_udp_size);
    put32(out, 0);
    put16(out, 0);
  }
  return out;
}

stack::Result<Response> parse_response(std::span<const uint8_t> packet) {
  Reader r(packet);
  Response resp;
  Header h;
  if (!read_header(r, h)) return stack::fail("dns: packet shorter than a header");
  auto [id, hi, lo, qd, an, ns, ar] = h;
  (void)ns;
  (void)ar;
  resp.id = id;
  if (!(hi & 0x80)) return stack::fail("dns: not a response (QR clear)");
  resp.authoritative = hi & 0x04;
  resp.truncated = hi & 0x02;
  resp.rcode = static_cast<Rcode>(lo & 0x0F);
  resp.answers = an;
  for (unsigned i = 0; i < qd; ++i) {
    Query q;
    if (auto n = r.name(&q.labels); !n) return tl::unexpected(n.error().wrap("dns: question"));
    if (!r.skip(4)) return stack::fail("dns: truncated question");
    if (i == 0) resp.question = lookup_name(q).value_or("");
  }
  for (unsigned i = 0; i < an; ++i) {
    uint16_t type = 0, cls = 0, rdlen = 0;
    if (auto n = r.name(nullptr); !n) return tl::unexpected(n.error().wrap("dns: answer " + std::to_string(i)));
    if (!r.u16(type) || !r.u16(cls) || !r.skip(4) || !r.u16(rdlen) || r.pos() + rdlen > packet.size())
      return stack::fail("dns: truncated answer " + std::to_string(i));
    if (type == kTypeA && rdlen == 4) {
      const uint8_t* a = &packet[r.pos()];
      resp.ipv4.push_back(std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
                          std::to_string(a[3]));
    }
    r.skip(rdlen);
  }
  return resp;
}

void set_packet_id(std::span<uint8_t> packet, uint16_t id) {
  if (packet.size() < 2) return;
  packet[0] = static_cast<uint8_t>(id >> 8);
  packet[1] = static_cast<uint8_t>(id & 0xFF);
}

}  // namespace stack::net::dns
