// Top-level `include`: `include: [a.yaml, b.yaml]` or the long form
// `{path: a.yaml | [a.yaml, a.override.yaml], project_directory, env_file}`.
// Each entry is loaded as its own document (several paths merged as -f
// files), relative paths in it resolving against its project_directory (by
// default its own directory), then its services, networks, volumes, configs
// and secrets are added to the including document. A name defined on both
// sides is an error, as in Compose.
#pragma once

#include "orchestrator/compose/documents.h"

namespace stack::compose {

stack::Result<void> resolve_include(Node& document, const LoadFile& load);

}  // namespace stack::compose
