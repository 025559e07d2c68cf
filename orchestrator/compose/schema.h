// Validation of a Compose file against the Compose Specification JSON schema
// (compiled in, schema_text.h), done on the loader's tree so every error
// names file:line:column and the field path:
//   juice-shop.yaml:7:5: services.web.prots: additional property "prots" is not allowed (did you mean "ports"?)
//
// The validator implements the draft-07 subset the schema uses: type (also
// arrays of types), properties, patternProperties, additionalProperties
// (false or a schema), required, items, enum, const, oneOf/anyOf/allOf,
// $ref to #/definitions, minimum/maximum, minItems/maxItems, uniqueItems,
// pattern. `format` is not checked here (normalize checks durations).
//
// YAML scalars are typed as Compose sees them after interpolation: a scalar
// is accepted as a string always, and as an integer/number/boolean when its
// text parses as one ("3" where an integer is expected is fine). oneOf is
// read as "at least one branch", since that leniency can make a value match
// two branches. Nodes tagged !reset are not checked.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/compose/tree.h"

namespace stack::compose {

struct SchemaError {
  Mark mark;
  std::string path;
  std::string message;
  std::string to_string() const;  // "file:l:c: path: message"
};

// All violations, in document order; empty = valid.
std::vector<SchemaError> validate_schema(const Node& root);

// Edit distance, for "did you mean" suggestions (also used by normalize).
size_t edit_distance(const std::string& a, const std::string& b);
// The closest candidate within a small distance, or "".
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace stack::compose
