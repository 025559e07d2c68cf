#include "orchestrator/api/image_json.h"

#include <array>
#include <utility>

namespace stack::orch {

using nlohmann::json;
using State = img::ProgressEvent::State;

namespace {

constexpr std::array<std::pair<State, const char*>, 11> kStates = {{
    {State::Resolving, "resolving"},
    {State::Waiting, "waiting"},
    {State::Downloading, "downloading"},
    {State::Verifying, "verifying"},
    {State::Complete, "complete"},
    {State::Exists, "exists"},
    {State::Uploading, "uploading"},
    {State::Pushed, "pushed"},
    {State::Retrying, "retrying"},
    {State::Failed, "failed"},
    {State::Status, "status"},
}};

}  // namespace

json progress_to_json(const img::ProgressEvent& e) {
  const char* state = "status";
  for (auto& [s, name] : kStates)
    if (s == e.state) state = name;
  return json{{"progress",
               {{"id", e.id}, {"state", state}, {"done", e.done}, {"total", e.total}, {"message", e.message}}}};
}

stack::Result<img::ProgressEvent> progress_from_json(const json& line) {
  auto it = line.find("progress");
  if (!line.is_object() || it == line.end() || !it->is_object()) return stack::fail("not a progress line", EINVAL);
  img::ProgressEvent e;
  try {
    auto state = it->value("state", std::string("status"));
    bool known = false;
    for (auto& [s, name] : kStates)
      if (state == name) {
        e.state = s;
        known = true;
      }
    if (!known) return stack::fail("progress: unknown state \"" + state + "\"", EINVAL);
    e.id = it->value("id", std::string());
    e.done = it->value("done", uint64_t{0});
    e.total = it->value("total", int64_t{-1});
    e.message = it->value("message", std::string());
  } catch (const json::exception& ex) {
    return stack::fail(std::string("progress: ") + ex.what(), EINVAL);
  }
  return e;
}

}  // namespace stack::orch
