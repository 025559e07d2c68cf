// Base64 (RFC 4648, standard alphabet, padded): the one codec of the tree.
// Used where bytes travel in JSON or text (registry credentials, a stack's
// secret and config data). No library: OpenSSL would be the only reason for
// the compose library and the CLI to link libcrypto.
#pragma once

#include <string>

#include "base/error.h"

namespace stack {

std::string base64_encode(const std::string& bytes);
// Whitespace is skipped and missing padding accepted (some writers drop it);
// any other character outside the alphabet is an error.
Result<std::string> base64_decode(const std::string& text);

}  // namespace stack
