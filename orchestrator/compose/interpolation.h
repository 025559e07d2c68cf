// Compose variable interpolation: $VAR, ${VAR}, ${VAR:-default},
// ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+replacement},
// ${VAR+replacement}, and $$ for a literal $. Defaults and replacements may
// themselves contain interpolations (${A:-${B:-x}}); they are expanded only
// when used. Values are looked up through a callback so the caller decides
// the precedence (the process environment over .env).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/compose/tree.h"

namespace stack::compose {

using Lookup = std::function<std::optional<std::string>(const std::string&)>;

// Expands one string. `unset` collects names used without a value and
// without a default (Compose substitutes "" and warns). The error text has no
// location; interpolate_tree() adds it.
stack::Result<std::string> interpolate(const std::string& text, const Lookup& lookup,
                                    std::vector<std::string>* unset = nullptr);

struct UnsetVariable {
  std::string name;
  Mark mark;
  std::string path;
};

// Expands every scalar value (not keys) of the tree in place.
stack::Result<void> interpolate_tree(Node& root, const Lookup& lookup, std::vector<UnsetVariable>* unset);

}  // namespace stack::compose
