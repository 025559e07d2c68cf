// `extends` on services: `extends: base` (same file) or
// `extends: {service: base, file: other.yaml}`. The base is resolved first
// (chains allowed, cycles are an error naming the chain), then the extending
// service is merged onto it with the -f merge rules (merge.h). Relative paths
// inside a base from another file keep resolving against that file's
// directory (each node carries its Source).
#pragma once

#include "orchestrator/compose/documents.h"

namespace stack::compose {

stack::Result<void> resolve_extends(Node& document, const LoadFile& load);

}  // namespace stack::compose
