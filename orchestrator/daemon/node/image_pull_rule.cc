#include "orchestrator/daemon/node/image_pull_rule.h"


namespace stack::orch {

stack::Result<bool> image_wants_pull(const img::ContentStore& store, const std::string& ref,
                                     const compose::PullRule& rule, int64_t now_ms) {
  using Mode = compose::PullRule::Mode;
  auto name = img::parse_reference(ref);
  if (!name) return tl::unexpected(name.error());
  auto digest = store.get_ref(*name);
  if (!digest && digest.error().code != ENOENT) return tl::unexpected(digest.error());
  const bool present = digest.has_value();
  switch (rule.mode) {
    case Mode::Always: return true;
    case Mode::Missing: return !present;
    case Mode::Never:
      if (!present) return stack::fail("image " + ref + " is not in the store and pull_policy is never", ENOENT);
      return false;
    case Mode::Build:
      if (!present)
        return stack::fail("image " + ref + " is not in the store and pull_policy is build: stack does not build " +
                               "images yet (load it: docker save ... | stack image load)",
                           ENOENT);
      return false;
    case Mode::Refresh: {
      if (!present) return true;
      auto at = store.tagged_at(*name);
      if (!at) return tl::unexpected(at.error());
      // A name from before the store kept times: its age is unknown, so stale.
      return !*at || now_ms - **at >= rule.refresh_after;
    }
  }
  return !present;
}

}  // namespace stack::orch
