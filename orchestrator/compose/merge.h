// Merging Compose documents as `docker compose -f a.yaml -f b.yaml` does,
// also used for `extends` (the extending service is merged onto its base):
//   - mappings merge key by key, scalars are replaced;
//   - command, entrypoint and healthcheck.test are replaced whole;
//   - volumes merge by container target, secrets/configs by source,
//     env_file by path; other sequences (ports, expose, dns, cap_add, ...)
//     are appended and de-duplicated;
//   - environment, labels, annotations, sysctls, depends_on, networks and
//     build.args merge by key whichever form (list or mapping) each file uses
//     (canonicalize() turns the list forms into mappings first);
//   - a value tagged !reset removes the key; !override replaces without
//     merging.
#pragma once

#include <string>

#include "orchestrator/compose/tree.h"

namespace stack::compose {

// List forms -> mapping forms in every service of a validated document:
// environment/labels/annotations/sysctls/build.args ["K=V", "K"] ->
// {K: V, K: null}; depends_on [a] -> {a: {condition: service_started}};
// networks [a] -> {a: null}; the same for deploy.labels and the labels of
// networks/volumes/configs/secrets.
void canonicalize(Node& root);
void canonicalize_service(Node& service);

// Merges `over` onto `base` (both top-level documents).
void merge_documents(Node& base, const Node& over);
// Merges one service definition onto another (extends).
void merge_service(Node& base, const Node& over);

// Removes !reset / !override tags left in a tree (a !reset in the first file
// means "empty").
void strip_merge_tags(Node& n);

}  // namespace stack::compose
