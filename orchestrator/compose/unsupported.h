// The one list of Compose fields that parse and validate but that stack's
// engine does not implement (yet). Loading a file that uses one gives a
// Warning naming the field; nothing is dropped silently. Paths are relative
// to a service unless they start with "top:".
#pragma once

#include <string_view>

namespace stack::compose {

struct UnsupportedField {
  std::string_view path;
  std::string_view note;
};

inline constexpr UnsupportedField kUnsupportedFields[] = {
    {"build", "stack does not build images yet: the image (`image`, else <project>-<service>) must be in the store"},
    {"cpu_count", "Windows only: Docker discards it on Linux too (use cpus)"},
    {"cpu_percent", "Windows only: Docker discards it on Linux too (use cpus)"},
    {"credential_spec", "Windows only"},
    {"develop", "watch mode is not supported"},
    {"external_links", "links to external containers are not supported"},
    {"gpus", "GPU requests are not supported"},
    {"isolation", "Windows only"},
    {"models", "models are not supported"},
    {"provider", "provider services are not supported"},
    {"runtime", "stack always uses its own runtime"},
    {"storage_opt", "storage options are not applied"},
    {"use_api_socket", "not supported"},
    {"deploy.endpoint_mode", "not applied"},
    {"top:models", "models are not supported"},
};

}  // namespace stack::compose
