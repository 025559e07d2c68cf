// The OCI distribution (registry v2) client: pull into and push from a
// ContentStore, and `stack login`. Every byte pulled is verified by the store
// (BlobWriter::commit) before it becomes content; a manifest and the ref
// appear only after all of its blobs did.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/image/digest.h"
#include "runtime/image/progress.h"
#include "runtime/image/reference.h"
#include "runtime/image/store.h"

namespace stack::img {

struct RegistryConfig {
  // Pull-through mirrors by registry domain: "docker.io" -> "http://127.0.0.1:5000".
  // A mirror is tried first; on failure the registry itself is used.
  std::map<std::string, std::string> mirrors;
  // Hosts ("host:port") allowed over plain HTTP or unverified TLS. Loopback
  // hosts are always allowed plain HTTP (HTTPS is still tried first).
  std::vector<std::string> insecure;
  // Docker config.json; "" = $DOCKER_CONFIG/config.json or ~/.docker/config.json.
  std::string auth_file;
  std::string ca_file;  // extra trusted CA (PEM) besides /etc/ssl/certs
  int parallel = 3;     // concurrent blob transfers
  int retries = 3;      // extra attempts after a transient failure
};

// Resolves the tag or digest; for an index picks the host platform (and also
// stores the index blob); stores config and layers (resuming partial layers
// with Range requests), then the manifest, then sets `ref`. Returns the
// platform manifest's digest. Errors are one line:
//   "pull localhost:5000/app:1: manifest unknown"
Result<Digest> pull(const Reference& ref, ContentStore& store, const RegistryConfig& config,
                    ProgressSink* progress = nullptr);

// Pushes the image `local` names in the store to `remote`: blobs the registry
// lacks (HEAD first), then the manifest (or index and its manifests) with its
// media type. Returns the pushed manifest's digest.
Result<Digest> push(const Reference& local, const Reference& remote, ContentStore& store,
                    const RegistryConfig& config, ProgressSink* progress = nullptr);

// Checks the credentials against https://host/v2/ and saves them to the auth
// file (config.auth_file or the default).
Result<> login(const std::string& host, const std::string& user, const std::string& password,
               const RegistryConfig& config);

}  // namespace stack::img
