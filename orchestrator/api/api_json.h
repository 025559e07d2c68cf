// JSON shapes of docs/api.md, shared by stackd (api_server) and the `stack`
// CLI (cli/client): ReplicaView, StackView, Event, LogLine and ExecRequest to
// and from JSON. Parsing is strict: an unknown field or a wrong type is an
// error naming the field, so a typo in a request is a 400, never ignored.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/api/types.h"
#include "base/error.h"

namespace stack::orch {

inline constexpr const char* kStackVersion = "0.1.0";
inline constexpr const char* kApiVersion = "1";

nlohmann::json to_json(const ReplicaView& r);
nlohmann::json to_json(const StackView& s);
nlohmann::json to_json(const Event& e);
nlohmann::json to_json(const LogLine& l);
nlohmann::json to_json(const ExecRequest& e);

stack::Result<ReplicaView> replica_from_json(const nlohmann::json& j);
stack::Result<std::vector<ReplicaView>> replicas_from_json(const nlohmann::json& j);
stack::Result<StackView> stack_from_json(const nlohmann::json& j);
stack::Result<Event> event_from_json(const nlohmann::json& j);
stack::Result<LogLine> log_line_from_json(const nlohmann::json& j);
// `extra` names fields the caller reads itself (e.g. "rm" for run): they are
// not reported as unknown.
stack::Result<ExecRequest> exec_request_from_json(const nlohmann::json& j, const std::vector<std::string>& extra = {});

// Checks `j` is an object whose keys are all in `allowed`; the error names the
// first unknown one ("unknown field \"wiat\"").
stack::Result<void> check_fields(const nlohmann::json& j, const std::vector<std::string>& allowed,
                              const std::string& where);

// Reads j[key] (when present) into `out` if its JSON type fits; the error
// names the field ("field \"wait\": expected boolean").
template <class T>
stack::Result<void> read_field(const nlohmann::json& j, const std::string& key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return stack::fail("field \"" + key + "\": wrong type (" + std::string(it->type_name()) + ")", EINVAL);
  }
  return {};
}

}  // namespace stack::orch
