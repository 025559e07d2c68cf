#include "orchestrator/cli/detach_keys.h"

#include <cctype>

namespace stack::cli {

Result<DetachKeys> DetachKeys::parse(const std::string& spec) {
  DetachKeys d;
  size_t start = 0;
  while (start < spec.size()) {
    size_t comma = spec.find(',', start);
    std::string key = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() : comma + 1;
    if (key.size() == 1) {
      d.keys_ += key;
      continue;
    }
    // ctrl-a .. ctrl-z, ctrl-@, ctrl-[, ctrl-\, ctrl-], ctrl-^, ctrl-_ (as Docker).
    if (key.size() == 6 && key.rfind("ctrl-", 0) == 0) {
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(key[5])));
      if ((c >= 'a' && c <= 'z') || c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_') {
        d.keys_ += static_cast<char>(c == '@' ? 0 : (c >= 'a' && c <= 'z' ? c - 'a' + 1 : c - '@'));
        continue;
      }
    }
    return fail("--detach-keys: \"" + key + "\" is not a key (use ctrl-<letter> or one character)", EINVAL);
  }
  return d;
}

std::string DetachKeys::filter(const std::string& typed, bool& detached) {
  std::string out;
  for (char c : typed) {
    if (keys_.empty()) {
      out += c;
      continue;
    }
    if (c == keys_[matched_]) {
      if (++matched_ == keys_.size()) {
        detached = true;
        matched_ = 0;
        return out;
      }
      continue;
    }
    // Not the sequence after all: what was held goes out, and this key may
    // start it anew.
    // (A one-key sequence always matches above, so keys_ has two or more.)
    out.append(keys_, 0, matched_);
    matched_ = 0;
    if (c == keys_[0])
      matched_ = 1;
    else
      out += c;
  }
  return out;
}

}  // namespace stack::cli
