// The API's image routes (docs/api.md, "Images"): the `stack` CLI's image
// verbs go to the daemon it talks to, so an image loaded or pulled through
// `stack --host X` lands in the store that daemon runs containers from.
//
//   GET  /v1/images                      list
//   GET  /v1/images/inspect?name=N       manifest + config
//   GET  /v1/images/df                   disk usage
//   POST /v1/images/load                 body: an archive (streamed to a file)
//   POST /v1/images/import?name=N        body: a rootfs tar (streamed to a file)
//   POST /v1/images/pull?name=N          streamed progress
//   POST /v1/images/push?name=N&remote=R streamed progress
//   POST /v1/images/remove?name=N
//   POST /v1/images/prune
//
// Each request opens the store (cheap: a few mkdirs) rather than sharing the
// engine's: the store is safe for concurrent users (flock), as the CLI and
// the daemon always were.
#pragma once

#include <string>

#include "orchestrator/daemon/server/http_routes.h"

namespace stack::orch {

// Routes whose body is an archive: the transport streams it into a file
// (ApiRequest::body_file) instead of memory; it may be many GB.
bool is_upload_route(const std::string& method, const std::string& path);

// Answers a request whose path starts with /v1/images.
void handle_image_request(const ServerInfo& info, const ApiRequest& request, ApiResponder& out);

}  // namespace stack::orch
