// DNS wire format, only as much as the embedded resolver needs (RFC 1035,
// RFC 6891 for the OPT record): parse one query, build our answers. Pure: no
// sockets, no state. Malformed input is an error value, never a crash or an
// out-of-bounds read: every read is bounds-checked and compression pointers
// may only point backwards (so they cannot loop).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace stack::net::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeAAAA = 28;
inline constexpr uint16_t kTypeOPT = 41;
inline constexpr uint16_t kTypeANY = 255;
inline constexpr uint16_t kClassIN = 1;

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kClassicUdpLimit = 512;  // without EDNS (RFC 1035 4.2.1)
inline constexpr uint16_t kOurEdnsSize = 1232;   // what we advertise (DNS flag day 2020)

enum class Rcode : uint8_t { NoError = 0, FormErr = 1, ServFail = 2, NxDomain = 3, NotImp = 4, Refused = 5 };

struct Query {
  uint16_t id = 0;
  uint8_t opcode = 0;
  bool recursion_desired = false;
  bool checking_disabled = false;
  // The question's labels exactly as sent (case kept: resolvers that
  // randomise case, "0x20", check the echo). Empty = the root name.
  std::vector<std::string> labels;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  // Set when the query carries an OPT record: the client's UDP payload size.
  std::optional<uint16_t> edns_udp_size;
};

// Parses a query: a header with QR=0 and exactly one question (compressed
// names accepted), then the answer/authority/additional sections, of which
// only an OPT record is used. Errors name what is wrong ("truncated
// question", "compression pointer loops", ...).
stack::Result<Query> parse_query(std::span<const uint8_t> packet);

// The lookup form of a name: labels lower-cased (ASCII) and joined by '.',
// no trailing dot. nullopt when a label holds a '.' or a NUL byte (such a name
// cannot be one of ours, so it is forwarded as is).
std::optional<std::string> lookup_name(const Query& query);

// Our answer to `query`: its id, RD copied, RA and AA set, the question
// echoed, one A record (TTL 0) per address in `ipv4` (network byte order)
// and an OPT record when the query had one. When the message would exceed
// `max_size` the answers are dropped and TC is set (the client retries over
// TCP). `rcode` is normally NoError (answers may be empty: NODATA) or
// NxDomain / ServFail / NotImp / Refused with no answers.
std::vector<uint8_t> build_response(const Query& query, Rcode rcode, std::span<const uint32_t> ipv4,
                                    size_t max_size);
inline std::vector<uint8_t> build_response(const Query& query, Rcode rcode) {
  return build_response(query, rcode, {}, 65535);
}

// The largest UDP answer the client accepts: 512 without EDNS, else its
// advertised size clamped to [512, 4096].
size_t udp_limit(const Query& query);

// What to send back for a packet parse_query() rejected: FORMERR with the
// packet's id and no question when the header is readable and it is a query
// (QR=0); nullopt (stay silent) when it is a response or shorter than a
// header, so we never answer answers (no reflection loops).
std::optional<std::vector<uint8_t>> build_format_error(std::span<const uint8_t> packet);

// Packet id helpers for forwarding (the id is the first two bytes).
uint16_t packet_id(std::span<const uint8_t> packet);  // 0 when shorter than 2 bytes
void set_packet_id(std::span<uint8_t> packet, uint16_t id);

// ---- client side (tests, the bench, anything that asks a resolver) ----

// A query for `name` ("web.mystack", trailing dot optional) with RD set and,
// when `edns_udp_size` is given, an OPT record. Labels over 63 bytes are cut.
std::vector<uint8_t> build_query(std::string_view name, uint16_t qtype, uint16_t id,
                                 std::optional<uint16_t> edns_udp_size = std::nullopt);

struct Response {
  uint16_t id = 0;
  Rcode rcode = Rcode::NoError;
  bool authoritative = false;
  bool truncated = false;
  std::string question;           // lookup form of the echoed question
  std::vector<std::string> ipv4;  // A answers, dotted, in order
  uint16_t answers = 0;           // every answer record, A or not
};
stack::Result<Response> parse_response(std::span<const uint8_t> packet);

}  // namespace stack::net::dns
