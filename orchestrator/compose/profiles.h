// Profiles: a service with `profiles` is active only when one of them is
// selected (--profile, or COMPOSE_PROFILES="a,b" in the environment); "*"
// selects every profile. Services without profiles are always active.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "orchestrator/compose/tree.h"

namespace stack::compose {

// "a, b,,c" -> {a, b, c}.
std::vector<std::string> split_profiles(const std::string& list);

// Removes inactive services from the document; returns their names.
std::set<std::string> apply_profiles(Node& document, const std::set<std::string>& selected);

}  // namespace stack::compose
