// Byte counts for people, in binary units as `docker stats` shows memory
// ("1.5GiB"); one home for the CLI's tables.
#pragma once

#include <string>

namespace stack::cli {

std::string human_bytes(double bytes);

}  // namespace stack::cli
