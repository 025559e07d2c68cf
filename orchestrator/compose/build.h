// `build:` of a service, and the image a build would produce.
//
// stack does not build images yet. Compose accepts a service with `build:` and
// no `image:` and names the image it builds "<project>-<service>"; stack does
// the same, so `stack config` shows the name and `stack up` runs the service
// once an image of that name is in the store (built elsewhere and loaded with
// `stack image load`). Such an image is never pulled: a registry image of the
// same name would be somebody else's.
//
// Forms: `build: ./dir` or {context, dockerfile, args, target}; the context
// resolves against the directory of the file it came from (a remote context,
// git or http, stays as written); dockerfile defaults to "Dockerfile"; an arg
// without a value takes the caller's environment or is left out. Other build
// keys parse (schema) and are not kept: the loader warns that build is not
// supported yet.
#pragma once

#include <string>

#include "orchestrator/compose/interpolation.h"
#include "orchestrator/compose/model.h"
#include "orchestrator/compose/tree.h"

namespace stack::compose {

stack::Result<Build> parse_build(const Node& n, const std::string& path, const Lookup& env);

// "<project>-<service>", Compose's name for the image of a service that has
// build: and no image:.
std::string default_image_name(const std::string& project, const std::string& service);

// The service's image comes from its build (build: without image:): never
// pulled, it must be in the store.
bool image_is_built(const Project& project, const Service& service);

}  // namespace stack::compose
