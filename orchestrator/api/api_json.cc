#include "orchestrator/api/api_json.h"

#include <algorithm>

namespace stack::orch {

using nlohmann::json;
using stack::Result;

namespace {

// nlohmann's get<int>() accepts 1.5 and "true" is rejected; unsigned ports
// need a range check the library does not do.
Result<void> expect_object(const json& j, const std::string& what) {
  if (!j.is_object()) return stack::fail(what + ": expected a JSON object", EINVAL);
  return {};
}

}  // namespace

Result<void> check_fields(const json& j, const std::vector<std::string>& allowed, const std::string& where) {
  STACK_TRY(expect_object(j, where));
  for (auto& [k, v] : j.items())
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      return stack::fail(where + ": unknown field \"" + k + "\"", EINVAL);
  return {};
}

json to_json(const ReplicaView& r) {
  json ports = json::array();
  for (auto& p : r.ports)
    ports.push_back({{"host_ip", p.host_ip}, {"published", p.published}, {"target", p.target}, {"protocol", p.protocol}});
  return {{"stack", r.stack},         {"service", r.service},       {"name", r.name},
          {"replica", r.replica},     {"container_id", r.container_id}, {"image", r.image},
          {"state", r.state},         {"health", r.health},         {"pid", r.pid},
          {"ip", r.ip},               {"ports", ports},             {"restarts", r.restarts},
          {"exit_code", r.exit_code}, {"node", r.node},             {"reason", r.reason},         {"created_at", r.created_at},
          {"started_at", r.started_at}, {"finished_at", r.finished_at}, {"command", r.command}};
}

Result<ReplicaView> replica_from_json(const json& j) {
  STACK_TRY(expect_object(j, "replica"));
  ReplicaView r;
  STACK_TRY(read_field(j, "stack", r.stack));
  STACK_TRY(read_field(j, "service", r.service));
  STACK_TRY(read_field(j, "name", r.name));
  STACK_TRY(read_field(j, "replica", r.replica));
  STACK_TRY(read_field(j, "container_id", r.container_id));
  STACK_TRY(read_field(j, "image", r.image));
  STACK_TRY(read_field(j, "state", r.state));
  STACK_TRY(read_field(j, "health", r.health));
  STACK_TRY(read_field(j, "pid", r.pid));
  STACK_TRY(read_field(j, "ip", r.ip));
  STACK_TRY(read_field(j, "restarts", r.restarts));
  STACK_TRY(read_field(j, "exit_code", r.exit_code));
  STACK_TRY(read_field(j, "node", r.node));
  if (j.contains("reason")) STACK_TRY(read_field(j, "reason", r.reason));
  STACK_TRY(read_field(j, "created_at", r.created_at));
  STACK_TRY(read_field(j, "started_at", r.started_at));
  STACK_TRY(read_field(j, "finished_at", r.finished_at));
  STACK_TRY(read_field(j, "command", r.command));
  if (auto it = j.find("ports"); it != j.end() && it->is_array()) {
    for (auto& p : *it) {
      PortView v;
      STACK_TRY(read_field(p, "host_ip", v.host_ip));
      STACK_TRY(read_field(p, "published", v.published));
      STACK_TRY(read_field(p, "target", v.target));
      STACK_TRY(read_field(p, "protocol", v.protocol));
      r.ports.push_back(v);
    }
  }
  return r;
}

Result<std::vector<ReplicaView>> replicas_from_json(const json& j) {
  if (!j.is_array()) return stack::fail("replicas: expected a JSON array", EINVAL);
  std::vector<ReplicaView> out;
  for (auto& e : j) {
    auto r = replica_from_json(e);
    if (!r) return tl::unexpected(r.error());
    out.push_back(std::move(*r));
  }
  return out;
}

json to_json(const StackView& s) {
  return {{"name", s.name},         {"goal", s.goal},       {"services", s.services},
          {"replicas", s.replicas}, {"running", s.running}, {"files", s.files}};
}

Result<StackView> stack_from_json(const json& j) {
  STACK_TRY(expect_object(j, "stack"));
  StackView s;
  STACK_TRY(read_field(j, "name", s.name));
  STACK_TRY(read_field(j, "goal", s.goal));
  STACK_TRY(read_field(j, "services", s.services));
  STACK_TRY(read_field(j, "replicas", s.replicas));
  STACK_TRY(read_field(j, "running", s.running));
  STACK_TRY(read_field(j, "files", s.files));
  return s;
}

json to_json(const Event& e) {
  return {{"time_ms", e.time_ms}, {"seq", e.seq},         {"stack", e.stack}, {"service", e.service},
          {"replica", e.replica}, {"type", e.type},       {"attrs", e.attrs}};
}

Result<Event> event_from_json(const json& j) {
  STACK_TRY(expect_object(j, "event"));
  Event e;
  STACK_TRY(read_field(j, "time_ms", e.time_ms));
  STACK_TRY(read_field(j, "seq", e.seq));
  STACK_TRY(read_field(j, "stack", e.stack));
  STACK_TRY(read_field(j, "service", e.service));
  STACK_TRY(read_field(j, "replica", e.replica));
  STACK_TRY(read_field(j, "type", e.type));
  STACK_TRY(read_field(j, "attrs", e.attrs));
  return e;
}

json to_json(const LogLine& l) {
  return {{"service", l.service}, {"replica", l.replica}, {"stream", l.stream}, {"time_ns", l.time_ns},
          {"text", l.text}};
}

Result<LogLine> log_line_from_json(const json& j) {
  STACK_TRY(expect_object(j, "log line"));
  LogLine l;
  STACK_TRY(read_field(j, "service", l.service));
  STACK_TRY(read_field(j, "replica", l.replica));
  STACK_TRY(read_field(j, "stream", l.stream));
  STACK_TRY(read_field(j, "time_ns", l.time_ns));
  STACK_TRY(read_field(j, "text", l.text));
  return l;
}

json to_json(const ExecRequest& e) {
  return {{"stack", e.stack}, {"service", e.service}, {"index", e.index},     {"cmd", e.cmd},
          {"tty", e.tty},     {"interactive", e.interactive}, {"env", e.env}, {"user", e.user},
          {"workdir", e.workdir}, {"detach", e.detach}};
}

Result<ExecRequest> exec_request_from_json(const json& j, const std::vector<std::string>& extra) {
  std::vector<std::string> allowed{"stack", "service", "index", "cmd", "tty", "interactive",
                                   "env",   "user",    "workdir", "detach"};
  allowed.insert(allowed.end(), extra.begin(), extra.end());
  STACK_TRY(check_fields(j, allowed, "exec request"));
  ExecRequest e;
  STACK_TRY(read_field(j, "stack", e.stack));
  STACK_TRY(read_field(j, "service", e.service));
  STACK_TRY(read_field(j, "index", e.index));
  STACK_TRY(read_field(j, "cmd", e.cmd));
  STACK_TRY(read_field(j, "tty", e.tty));
  STACK_TRY(read_field(j, "interactive", e.interactive));
  STACK_TRY(read_field(j, "env", e.env));
  STACK_TRY(read_field(j, "user", e.user));
  STACK_TRY(read_field(j, "workdir", e.workdir));
  STACK_TRY(read_field(j, "detach", e.detach));
  if (e.service.empty()) return stack::fail("field \"service\": required", EINVAL);
  if (e.index < 1) return stack::fail("field \"index\": must be 1 or more", EINVAL);
  for (auto& kv : e.env)
    if (kv.find('=') == std::string::npos || kv.front() == '=')
      return stack::fail("field \"env\": \"" + kv + "\" is not KEY=VALUE", EINVAL);
  return e;
}

}  // namespace stack::orch
