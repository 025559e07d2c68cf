// Image manifests, indexes and configs: OCI and Docker schema2, parsed from
// JSON with errors naming the field. Also the image config fields the
// orchestrator needs to build a container's OCI spec.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/image/digest.h"

namespace stack::img {

namespace media {
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}  // namespace media

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  // Index entries only.
  std::string os, architecture, variant;
  std::map<std::string, std::string> annotations;
};

struct Manifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

struct Healthcheck {
  std::vector<std::string> test;  // ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]
  int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
  int retries = 0;
};

struct ImageConfig {
  std::string os, architecture, variant;
  std::vector<std::string> entrypoint, cmd, env;
  std::string working_dir, user, stop_signal;
  std::vector<std::string> exposed_ports;  // "3000/tcp"
  std::vector<std::string> volumes;        // "/data"
  std::map<std::string, std::string> labels;
  std::optional<Healthcheck> healthcheck;
  std::vector<Digest> diff_ids;            // rootfs.diff_ids: uncompressed layer digests
  std::string created;
};

bool is_index_media_type(const std::string& mt);
bool is_manifest_media_type(const std::string& mt);

// `media_type` from the registry's Content-Type, or "" to use the JSON's own
// mediaType field. Errors: "manifest sha256:..: layers[2].digest: ...".
Result<Manifest> parse_manifest(const std::string& json, const std::string& media_type = "");
Result<Index> parse_index(const std::string& json, const std::string& media_type = "");
Result<ImageConfig> parse_image_config(const std::string& json);
std::string image_config_to_json(const ImageConfig& c);  // OCI config JSON (for import)

// The entry for os/arch/variant (the host's by default: linux/amd64 on
// x86-64), as containerd's platform matcher picks it.
Result<Descriptor> select_platform(const Index& index, const std::string& os = "linux",
                                   const std::string& arch = "", const std::string& variant = "");
std::string host_architecture();  // GOARCH naming: amd64, arm64, ...
// Whether this host runs `platform` ("os/arch[/variant]", as Compose's
// `platform:` writes it) natively: nothing is emulated, so a foreign one is
// an error naming both ("linux/arm64 cannot run on this linux/amd64 host").
Result<void> check_platform_runs_here(const std::string& platform);

// Layer chain ids: chain(L1) = diff(L1); chain(Ln) = sha256(chain(Ln-1) + " " + diff(Ln)).
std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids);

}  // namespace stack::img
