// The OCI runtime config parser (stack-runtime create reads config.json from
// a bundle that podman or a user wrote). A spec that parses must serialize,
// and what it serializes to must parse again to the same JSON.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "runtime/oci/spec.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stack;
  auto spec = rt::parse_spec_text(fuzz::as_string(data, size));
  if (!spec) return 0;
  (void)rt::has_namespace(*spec, "network");
  nlohmann::json j = rt::spec_to_json(*spec);
  std::string text = j.dump();
  auto again = rt::parse_spec_text(text);
  if (!again) {
    std::fprintf(stderr, "spec_to_json output does not parse: %s\n%s\n", again.error().message().c_str(),
                 text.c_str());
    std::abort();
  }
  if (rt::spec_to_json(*again).dump() != text) {
    std::fprintf(stderr, "spec round trip changed the spec:\n%s\n", text.c_str());
    std::abort();
  }
  return 0;
}
