// Registry JSON: the same bytes are tried as a manifest, an index and an
// image config (a registry or an archive decides which one we get, and a
// hostile one may lie). The first byte picks the Content-Type the registry
// claimed, so the media-type checks are reached both ways.
#include <cstdio>

#include "runtime/image/manifest.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stack;
  static const char* const kTypes[] = {"", img::media::kOciManifest, img::media::kOciIndex,
                                       img::media::kDockerManifest, img::media::kDockerList,
                                       "application/json"};
  std::string media;
  if (size > 0) {
    media = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
    ++data;
    --size;
  }
  std::string json = fuzz::as_string(data, size);
  if (auto m = img::parse_manifest(json, media)) {
    (void)img::is_manifest_media_type(m->media_type);
  }
  if (auto idx = img::parse_index(json, media)) {
    (void)img::select_platform(*idx);
    (void)img::select_platform(*idx, "linux", "arm64", "v8");
  }
  if (auto cfg = img::parse_image_config(json)) {
    (void)img::chain_ids(cfg->diff_ids);
    // import writes what it parsed back out: that must parse again.
    std::string out = img::image_config_to_json(*cfg);
    auto again = img::parse_image_config(out);
    if (!again) {
      std::fprintf(stderr, "image_config_to_json output does not parse: %s\n%s\n",
                   again.error().message().c_str(), out.c_str());
      std::abort();
    }
  }
  return 0;
}
