// The Compose Specification JSON schema, compiled into the library by
// orchestrator/CMakeLists.txt from compose/compose-spec.schema.json (a copy of
// the public schema from github.com/compose-spec/compose-spec, Apache-2.0).
#pragma once

namespace stack::compose {
extern const char* const kComposeSchemaText;
}  // namespace stack::compose
