// JSON and YAML views of the model (loader.h: to_yaml, to_json,
// project_from_json). JSON holds every field of model.h in model units (ms,
// bytes), keys sorted, unset optionals as null; project_from_json() reads it
// back exactly (every key is required). The YAML view is the
// same document with durations written as "1m30s", unset and empty fields
// left out and x-* extensions shown as YAML.
#pragma once

#include <nlohmann/json.hpp>

#include "orchestrator/compose/model.h"

namespace stack::compose {

nlohmann::json project_to_json_value(const Project& project);
// A service's ResourceTuning as it appears in the project's JSON (the
// replica spec carries the same object).
nlohmann::json tuning_to_json(const ResourceTuning& tuning);
// post_start / pre_stop hooks as in the project's JSON, and back (a value
// that is not such a list reads as none).
nlohmann::json hooks_to_json(const std::vector<LifecycleHook>& hooks);
std::vector<LifecycleHook> hooks_from_json(const nlohmann::json& j);

}  // namespace stack::compose
