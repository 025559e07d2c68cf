// The stack's name, by Compose's rules: the file's top-level `name`, else
// -p, else the file's stem (juice-shop.yaml -> juice-shop), normalised to
// lowercase [a-z0-9_-] starting with a letter or digit.
#pragma once

#include <optional>
#include <string>

namespace stack::orch {

// Lowercases and drops characters Compose does not allow; nullopt when
// nothing valid is left.
std::optional<std::string> normalize_project_name(const std::string& raw);
// "dir/juice-shop.yaml" -> "juice-shop" (normalised).
std::optional<std::string> project_name_from_file(const std::string& path);

}  // namespace stack::orch
