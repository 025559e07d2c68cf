// JSON shapes of the image routes (docs/api.md, "Images"), shared by stackd
// (image_routes.cc) and the `stack` CLI (cli/image_commands.cc): a pull or
// push progress event as one line of the streamed reply, so the CLI renders
// the daemon's transfer as Docker does, as if it ran the transfer itself.
#pragma once

#include <nlohmann/json.hpp>

#include "runtime/image/progress.h"
#include "base/error.h"

namespace stack::orch {

// {"progress": {"id", "state": "downloading", "done", "total", "message"}}
nlohmann::json progress_to_json(const img::ProgressEvent& e);
// The event of a line made by progress_to_json; an error for any other line.
stack::Result<img::ProgressEvent> progress_from_json(const nlohmann::json& line);

}  // namespace stack::orch
