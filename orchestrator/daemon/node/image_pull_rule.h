// Whether the node pulls an image now, by the service's pull rule
// (compose/task_spec.h PullRule) and what the store holds. Pure but for
// reading the store's names; the node's ensure_image() does the pull.
#pragma once

#include <cstdint>
#include <string>

#include "orchestrator/compose/task_spec.h"
#include "runtime/image/store.h"

namespace stack::orch {

// True: pull. ENOENT when the image is missing and the rule forbids a pull
// (never; build, which stack cannot do yet), naming the rule.
stack::Result<bool> image_wants_pull(const img::ContentStore& store, const std::string& ref,
                                     const compose::PullRule& rule, int64_t now_ms);

}  // namespace stack::orch
