// The embedded resolver's wire parser (UDP/TCP port 53 on every stack
// network: any container can send it anything). A query that parses is
// answered, and our answer must parse back with the question echoed. The
// client-side response parser and the FORMERR path see the same bytes.
#include <cstdio>
#include <cstdlib>
#include <span>

#include "netplane/dns_message.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stack::net;
  std::span<const uint8_t> packet(data, size);
  (void)dns::packet_id(packet);
  (void)dns::parse_response(packet);
  auto q = dns::parse_query(packet);
  if (!q) {
    (void)dns::build_format_error(packet);
    return 0;
  }
  auto name = dns::lookup_name(*q);
  const uint32_t addrs[] = {0x0100000a, 0x0200000a, 0x0300000a};
  size_t limit = dns::udp_limit(*q);
  if (limit < dns::kClassicUdpLimit || limit > 4096) std::abort();
  for (auto rcode : {dns::Rcode::NoError, dns::Rcode::NxDomain}) {
    auto answer = dns::build_response(*q, rcode, addrs, limit);
    if (answer.size() > limit) {
      std::fprintf(stderr, "answer of %zu bytes over the %zu byte limit\n", answer.size(), limit);
      std::abort();
    }
    auto back = dns::parse_response(answer);
    if (!back) {
      std::fprintf(stderr, "our answer does not parse: %s\n", back.error().message().c_str());
      std::abort();
    }
    if (back->id != q->id || (name && back->question != *name)) {
      std::fprintf(stderr, "answer echoes another question\n");
      std::abort();
    }
  }
  return 0;
}
