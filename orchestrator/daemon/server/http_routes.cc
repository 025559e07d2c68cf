#include "orchestrator/daemon/server/http_routes.h"

#include <sys/utsname.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>

#include <nlohmann/json.hpp>

#include "orchestrator/compose/file_objects.h"
#include "orchestrator/compose/loader.h"
#include "orchestrator/api/api_json.h"
#include "orchestrator/daemon/server/cluster_routes.h"
#include "orchestrator/daemon/server/image_routes.h"
#include "orchestrator/project_name.h"

namespace stack::orch {

using nlohmann::json;

namespace {

// `scale`'s bound: a stack file may ask for as many (the scale benchmark
// runs 30,000); a typo of a billion is refused before anything is sized by it.
constexpr int64_t kMaxReplicas = 1000000;

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

json error_body(const std::string& message) { return json{{"error", message}}; }

// Replies echo request paths, query keys and container log text, none of
// which need be UTF-8 ("GET /v1/%ff"); plain dump() throws on those, and an
// exception out of a connection thread ends stackd. Bad bytes become U+FFFD.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// One request being answered; helpers return false after replying an error.
struct Call {
  Engine& engine;
  const ServerInfo& info;
  const ApiRequest& req;
  ApiResponder& out;

  void fail(int status, const std::string& message) { out.reply(status, dump(error_body(message))); }
  // A 4xx errno is the engine's way to classify ("no such stack: x" with
  // ENOENT): its context is the message (error_text); others keep strerror.
  void fail(const stack::Error& e) { fail(status_for(e), error_text(e)); }
  void ok(const json& body) { out.reply(200, dump(body)); }

  bool body_json(json& j) {
    if (req.body.empty()) {
      j = json::object();
      return true;
    }
    j = json::parse(req.body, nullptr, false);
    if (j.is_discarded()) {
      fail(400, "request body is not valid JSON");
      return false;
    }
    if (!j.is_object()) {
      fail(400, "request body: expected a JSON object");
      return false;
    }
    return true;
  }

  template <class T>
  bool check(const stack::Result<T>& r) {
    if (r) return true;
    fail(r.error());
    return false;
  }

  // Query values: every key must be one the route knows.
  bool query_known(const std::vector<std::string>& allowed) {
    std::string k = req.unknown_query_key(allowed);
    if (!k.empty()) fail(400, "unknown query parameter \"" + k + "\"");
    return k.empty();
  }
  std::string query(const std::string& key) const { return req.query_value(key); }
  bool flag(const std::string& key) const {
    auto v = query(key);
    return v == "1" || v == "true";
  }
  bool query_int(const std::string& key, int64_t& out_value) {
    auto v = query(key);
    if (v.empty()) return true;
    try {
      size_t used = 0;
      out_value = std::stoll(v, &used);
      if (used == v.size()) return true;
    } catch (const std::exception&) {
    }
    fail(400, "query parameter \"" + key + "\": not an integer: " + v);
    return false;
  }

  bool services_field(const json& j, std::vector<std::string>& services) {
    return check(read_field(j, "services", services));
  }

  void version() {
    utsname u{};
    ::uname(&u);
    ok({{"version", kStackVersion}, {"api", kApiVersion}, {"os", u.sysname}, {"arch", u.machine},
        {"root", info.root}});
  }

  void list_stacks() {
    json arr = json::array();
    for (auto& s : engine.stacks()) arr.push_back(to_json(s));
    ok(arr);
  }

  void up(const std::string& stack) {
    json j;
    if (!body_json(j)) return;
    if (!check(check_fields(j, {"project", "services", "wait", "wait_timeout_ms", "pull"}, "up"))) return;
    if (!j.contains("project")) return fail(400, "up: field \"project\": required");
    auto project = compose::project_from_json(j["project"].dump());
    if (!project) return fail(400, "field \"project\": " + project.error().message());
    if (project->name != stack)
      return fail(400, "field \"project\": name \"" + project->name + "\" differs from the stack \"" + stack + "\"");
    UpOptions o;
    std::string pull = "missing";
    if (!services_field(j, o.services) || !check(read_field(j, "wait", o.wait)) ||
        !check(read_field(j, "wait_timeout_ms", o.wait_timeout_ms)) || !check(read_field(j, "pull", pull)))
      return;
    if (pull != "missing" && pull != "always") return fail(400, "field \"pull\": expected \"missing\" or \"always\"");
    o.pull_always = pull == "always";
    for (auto& s : o.services)
      if (!project->services.count(s)) return fail(400, "field \"services\": no service \"" + s + "\" in the stack");
    for (auto& [name, s] : project->services)
      if (auto files = compose::service_files(*project, s); !files)
        return fail(400, "field \"project\": " + files.error().message());
    auto r = engine.up(*project, o);
    if (!check(r)) return;
    json arr = json::array();
    for (auto& v : *r) arr.push_back(to_json(v));
    ok(arr);
  }

  void down(const std::string& stack) {
    if (!query_known({"volumes"})) return;
    if (check(engine.down(stack, flag("volumes")))) ok(json::object());
  }

  void lifecycle(const std::string& stack, const std::string& verb) {
    json j;
    std::vector<std::string> services;
    if (!body_json(j) || !check(check_fields(j, {"services"}, verb)) || !services_field(j, services)) return;
    stack::Result<void> r = verb == "stop"    ? engine.stop(stack, services)
                         : verb == "start" ? engine.start(stack, services)
                                           : engine.restart(stack, services);
    if (check(r)) ok(json::object());
  }

  void scale(const std::string& stack) {
    json j;
    if (!body_json(j) || !check(check_fields(j, {"replicas"}, "scale"))) return;
    auto it = j.find("replicas");
    if (it == j.end() || !it->is_object() || it->empty())
      return fail(400, "scale: field \"replicas\": expected an object {\"service\": N}");
    std::map<std::string, int> want;
    for (auto& [svc, n] : it->items()) {
      if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > kMaxReplicas)
        return fail(400, "field \"replicas." + svc + "\": expected an integer 0.." + std::to_string(kMaxReplicas));
      want[svc] = n.get<int>();
    }
    if (check(engine.scale(stack, want))) ok(json::object());
  }

  // Reads only: what up of the body's project would do.
  void plan(const std::string& stack) {
    json j;
    if (!body_json(j) || !check(check_fields(j, {"project"}, "plan"))) return;
    if (!j.contains("project")) return fail(400, "plan: field \"project\": required");
    auto project = compose::project_from_json(j["project"].dump());
    if (!project) return fail(400, "field \"project\": " + project.error().message());
    if (project->name != stack)
      return fail(400, "field \"project\": name \"" + project->name + "\" differs from the stack \"" + stack + "\"");
    auto r = engine.plan(*project);
    if (!check(r)) return;
    ok(json::parse(*r));
  }

  void rollback(const std::string& stack) {
    json j;
    if (!body_json(j) || !check(check_fields(j, {"service"}, "rollback"))) return;
    auto it = j.find("service");
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty())
      return fail(400, "rollback: field \"service\": expected the name of a service");
    if (check(engine.rollback(stack, it->get<std::string>()))) ok(json::object());
  }

  void inspect(const std::string& stack) {
    auto p = engine.project(stack);
    if (!check(p)) return;
    auto reps = engine.ps(stack);
    if (!check(reps)) return;
    json arr = json::array();
    for (auto& v : *reps) arr.push_back(to_json(v));
    ok({{"project", json::parse(compose::to_json(compose::without_file_data(*p)))}, {"replicas", arr}});
  }

  void ps(const std::string& stack) {
    auto reps = engine.ps(stack == "_all" ? "" : stack);
    if (!check(reps)) return;
    json arr = json::array();
    for (auto& v : *reps) arr.push_back(to_json(v));
    ok(arr);
  }

  void text_json(const stack::Result<std::string>& r) {
    if (!check(r)) return;
    out.reply(200, *r);
  }

  void logs(const std::string& stack) {
    if (!query_known({"follow", "tail", "timestamps", "since", "service"})) return;
    LogOptions o;
    o.follow = flag("follow");
    o.timestamps = flag("timestamps");
    if (!query_int("tail", o.tail) || !query_int("since", o.since_ms)) return;
    for (auto [a, b] = req.query.equal_range("service"); a != b; ++a) o.services.push_back(a->second);
    if (!check(engine.project(stack))) return;  // unknown stack: 404 before the stream starts
    out.start_stream();
    auto r = engine.logs(
        stack, o, [&](const LogLine& l) { return out.write_line(dump(to_json(l))); }, out.cancelled());
    if (!r) out.write_line(dump(error_body(r.error().message())));
  }

  void events() {
    if (!query_known({"since", "stack"})) return;
    // No `since`: live events only; since=0: every event the engine kept.
    int64_t since = -1;
    if (!query_int("since", since)) return;
    std::string only = query("stack");
    uint64_t from = since < 0 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(since);

    // The engine's threads fill the queue; this connection's thread writes.
    struct Queue {
      std::mutex mu;
      std::condition_variable cv;
      std::deque<Event> items;
    };
    auto q = std::make_shared<Queue>();
    auto sub = engine.subscribe(from, [q, only](const Event& e) {
      if (!only.empty() && e.stack != only) return;
      std::lock_guard lock(q->mu);
      q->items.push_back(e);
      q->cv.notify_one();
    });
    out.start_stream();
    while (!out.cancelled()) {
      std::unique_lock lock(q->mu);
      q->cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return !q->items.empty(); });
      std::deque<Event> batch;
      batch.swap(q->items);
      lock.unlock();
      for (auto& e : batch)
        if (!out.write_line(dump(to_json(e)))) return;
    }
  }

  void exec(const std::string& stack, bool run) {
    if (!req.upgrade) return fail(400, "exec needs Connection: Upgrade and Upgrade: stack-stream");
    json j;
    if (!body_json(j)) return;
    auto er = exec_request_from_json(j, run ? std::vector<std::string>{"rm"} : std::vector<std::string>{});
    if (!check(er)) return;
    if (!er->stack.empty() && er->stack != stack)
      return fail(400, "field \"stack\": \"" + er->stack + "\" differs from the path's stack");
    er->stack = stack;
    if (er->cmd.empty() && !run) return fail(400, "field \"cmd\": required");
    bool rm = false;
    if (!check(read_field(j, "rm", rm))) return;
    auto session = run ? engine.run(*er, rm) : engine.exec(*er);
    if (!check(session)) return;
    out.relay(**session);
  }

  // The same request body and stream as exec; only stack, service and
  // index are used (the main process is already running).
  void attach(const std::string& stack) {
    if (!req.upgrade) return fail(400, "attach needs Connection: Upgrade and Upgrade: stack-stream");
    json j;
    if (!body_json(j)) return;
    auto er = exec_request_from_json(j, {});
    if (!check(er)) return;
    if (!er->stack.empty() && er->stack != stack)
      return fail(400, "field \"stack\": \"" + er->stack + "\" differs from the path's stack");
    er->stack = stack;
    auto session = engine.attach(*er);
    if (!check(session)) return;
    out.relay(**session);
  }

  void route() {
    auto parts = split(req.path, '/');  // "", "v1", ...
    if (parts.size() < 3 || parts[0] != "" || parts[1] != "v1") return fail(404, "no such endpoint: " + req.path);
    const std::string& m = req.method;
    if (parts.size() == 3 && parts[2] == "version" && m == "GET") return version();
    if (parts.size() == 3 && parts[2] == "events" && m == "GET") return events();
    if (parts.size() == 3 && parts[2] == "stacks" && m == "GET") return list_stacks();
    if (parts[2] == "images") return handle_image_request(info, req, out);
    if (is_cluster_route(req.path)) return handle_cluster_request(info, req, out);
    // "/v1/stacks" itself with another method has no parts[3]: 404, not a read past the end.
    if (parts[2] != "stacks" || parts.size() < 4 || parts.size() > 5)
      return fail(404, "no such endpoint: " + m + " " + req.path);
    const std::string& stack = parts[3];
    auto norm = normalize_project_name(stack);
    if (stack != "_all" && (!norm || *norm != stack))
      return fail(400, "bad stack name \"" + stack + "\": use lowercase letters, digits, '-' and '_'");
    if (parts.size() == 4) {
      if (m == "GET") return inspect(stack);
      return fail(405, "method " + m + " not allowed on " + req.path);
    }
    const std::string& verb = parts[4];
    if (m == "POST") {
      if (verb == "up") return up(stack);
      if (verb == "down") return down(stack);
      if (verb == "stop" || verb == "start" || verb == "restart") return lifecycle(stack, verb);
      if (verb == "scale") return scale(stack);
      if (verb == "rollback") return rollback(stack);
      if (verb == "plan") return plan(stack);
      if (verb == "exec") return exec(stack, false);
      if (verb == "run") return exec(stack, true);
      if (verb == "attach") return attach(stack);
    } else if (m == "GET") {
      if (verb == "ps") return ps(stack);
      if (verb == "logs") return logs(stack);
      if (verb == "top") return text_json(engine.top(stack));
      if (verb == "stats") return text_json(engine.stats(stack));
      if (verb == "autoscale") return text_json(engine.autoscale(stack));
    }
    fail(404, "no such endpoint: " + m + " " + req.path);
  }
};

}  // namespace

void parse_target(const std::string& target, std::string& path, std::multimap<std::string, std::string>& query) {
  auto q = target.find('?');
  path = percent_decode(target.substr(0, q));
  query.clear();
  if (q == std::string::npos) return;
  for (auto& kv : split(target.substr(q + 1), '&')) {
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    if (eq == std::string::npos)
      query.emplace(percent_decode(kv), "1");
    else
      query.emplace(percent_decode(kv.substr(0, eq)), percent_decode(kv.substr(eq + 1)));
  }
}

std::string ApiRequest::query_value(const std::string& key) const {
  auto it = query.find(key);
  return it == query.end() ? "" : it->second;
}

std::string ApiRequest::unknown_query_key(const std::vector<std::string>& allowed) const {
  for (auto& [k, v] : query)
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) return k.empty() ? "(empty)" : k;
  return "";
}

int status_for(const stack::Error& e) {
  switch (e.code) {
    case ENOENT: return 404;
    case EINVAL: return 400;
    case EEXIST:
    case EBUSY:
    case EADDRINUSE: return 409;
    case ENOTCONN: return 503;
    default: return 500;
  }
}

std::string error_text(const stack::Error& e) {
  int status = status_for(e);
  return status < 500 || e.code == ENOTCONN ? e.context : e.message();
}

void handle_request(Engine& engine, const ServerInfo& info, const ApiRequest& request, ApiResponder& out) {
  Call{engine, info, request, out}.route();
}

}  // namespace stack::orch
