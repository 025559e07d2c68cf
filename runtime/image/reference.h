// Image references by Docker's rules (distribution/reference): "alpine" is
// docker.io/library/alpine:latest, "user/app" is docker.io/user/app:latest,
// "host:5000/a/b:tag" keeps its registry, "name@sha256:..." pins a digest.
#pragma once

#include <string>

#include "base/error.h"

namespace stack::img {

using stack::Error;
using stack::Result;

struct Reference {
  std::string domain;  // "docker.io", "localhost:5000"
  std::string path;    // "library/alpine"
  std::string tag;     // "latest" unless a digest alone was given
  std::string digest;  // "sha256:<64 hex>" or ""

  std::string repository() const { return domain + "/" + path; }
  // Fully qualified: "docker.io/library/alpine:latest", "h/a@sha256:..".
  std::string string() const;
  // As Docker prints it: "alpine:latest", "user/app:1", "localhost:5000/a:b".
  std::string familiar() const;
};

// Errors say what is wrong: "invalid reference \"Alpine\": repository name
// must be lowercase".
Result<Reference> parse_reference(const std::string& text);

}  // namespace stack::img
