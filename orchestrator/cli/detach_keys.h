// The detach keys of `stack attach` (Docker's --detach-keys, default
// "ctrl-p,ctrl-q"): typed in sequence they end the attach and leave the
// container running. The client filters them out of what it sends, so the
// container never sees a complete sequence; a partial one is held back
// until the next key shows it was not the sequence, then sent.
#pragma once

#include <string>

#include "base/error.h"

namespace stack::cli {

inline constexpr const char* kDefaultDetachKeys = "ctrl-p,ctrl-q";

class DetachKeys {
 public:
  // "ctrl-p,ctrl-q": comma-separated keys, each "ctrl-<a-z@[\\]^_>" or one
  // character. Empty: no detach keys.
  static Result<DetachKeys> parse(const std::string& spec);

  // Feeds typed bytes; returns what to send on. `detached` becomes true once
  // the sequence was typed (the bytes after it are dropped).
  std::string filter(const std::string& typed, bool& detached);

 private:
  std::string keys_;
  size_t matched_ = 0;  // how much of keys_ the last bytes typed were
};

}  // namespace stack::cli
