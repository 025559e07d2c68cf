// Stack verbs that only look: ps, logs, top, stats, autoscale, events.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <thread>

#include "orchestrator/cli/human_bytes.h"
#include "orchestrator/compose/units.h"
#include "orchestrator/cli/log_printer.h"
#include "orchestrator/cli/stack_commands.h"
#include "orchestrator/api/api_json.h"

namespace stack::cli {
namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

using nlohmann::json;
using stack::fail;

namespace {

// Left-aligned columns, two spaces apart (docker's table style).
void print_table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(head.size());
  for (size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
  for (auto& r : rows)
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::vector<std::string>& r) {
    std::string s;
    for (size_t i = 0; i < r.size(); ++i) {
      s += r[i];
      if (i + 1 < r.size()) s += std::string(w[i] - r[i].size() + 2, ' ');
    }
    std::cout << s << "\n";
  };
  line(head);
  for (auto& r : rows) line(r);
}

std::string ports_text(const orch::ReplicaView& r) {
  std::string s;
  for (auto& p : r.ports) {
    if (!s.empty()) s += ", ";
    if (p.published) {
      // As docker ps prints them: "0.0.0.0:80->3000/tcp", "[::1]:8080->80/tcp".
      std::string ip = p.host_ip.empty() ? "0.0.0.0" : p.host_ip;
      if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
      s += ip + ":" + std::to_string(p.published) + "->";
    }
    s += std::to_string(p.target) + "/" + (p.protocol.empty() ? "tcp" : p.protocol);
  }
  return s;
}

Result<ApiClient> connect_for(const StackOptions& o, std::string& name) {
  auto n = stack_name(o);
  if (!n) return tl::unexpected(n.error());
  name = *n;
  return ApiClient::connect(o.client);
}

}  // namespace

Result<> cmd_ps(const StackOptions& o, const std::string& format, bool all, bool every_stack) {
  std::string name = "_all";
  Result<ApiClient> client = every_stack ? ApiClient::connect(o.client) : connect_for(o, name);
  if (!client) return tl::unexpected(client.error());
  auto v = client->call("GET", "/v1/stacks/" + name + "/ps");
  if (!v) return tl::unexpected(v.error());
  auto reps = orch::replicas_from_json(*v);
  if (!reps) return tl::unexpected(reps.error());
  std::vector<orch::ReplicaView> shown;
  for (auto& r : *reps)
    if (all || (r.state != "exited" && r.state != "created")) shown.push_back(r);
  if (format == "json") {
    json arr = json::array();
    for (auto& r : shown) arr.push_back(orch::to_json(r));
    std::cout << arr.dump() << "\n";
    return {};
  }
  if (!format.empty() && format != "table") return fail("--format " + format + ": expected table or json");
  std::vector<std::vector<std::string>> rows;
  for (auto& r : shown)
    rows.push_back({r.name, r.service, std::to_string(r.replica), r.reason.empty() ? r.state : r.state + ": " + r.reason, r.health.empty() ? "-" : r.health,
                    r.pid ? std::to_string(r.pid) : "-", r.ip.empty() ? "-" : r.ip, ports_text(r),
                    std::to_string(r.restarts), r.state == "exited" ? std::to_string(r.exit_code) : "-", r.node});
  print_table({"NAME", "SERVICE", "REPLICA", "STATE", "HEALTH", "PID", "IP", "PORTS", "RESTARTS", "EXIT", "NODE"},
              rows);
  return {};
}

Result<> print_logs(const ApiClient& client, const std::string& stack, const LogFlags& f, StreamCancel* cancel) {
  LogPrinter printer(stack, ::isatty(STDOUT_FILENO), f.timestamps);
  if (auto ps = client.call("GET", "/v1/stacks/" + stack + "/ps"))
    for (auto& r : *ps) printer.reserve(r.value("name", ""));
  std::string target = "/v1/stacks/" + stack + "/logs?tail=" + std::to_string(f.tail);
  if (!f.since.empty()) {
    auto since = compose::parse_time(f.since, now_ms());
    if (!since) return tl::unexpected(since.error().within("--since"));
    target += "&since=" + std::to_string(*since);
  }
  if (f.follow) target += "&follow=1";
  if (f.timestamps) target += "&timestamps=1";
  for (auto& s : f.services) target += "&service=" + url_escape(s);
  return client.stream(
      target, nullptr,
      [&](const json& j) {
        if (auto l = orch::log_line_from_json(j)) printer.print(*l);
        return true;
      },
      cancel);
}

Result<> cmd_logs(const StackOptions& o, const LogFlags& f) {
  std::string name;
  auto client = connect_for(o, name);
  if (!client) return tl::unexpected(client.error());
  return print_logs(*client, name, f);
}

Result<> cmd_top(const StackOptions& o) {
  std::string name;
  auto client = connect_for(o, name);
  if (!client) return tl::unexpected(client.error());
  auto v = client->call("GET", "/v1/stacks/" + name + "/top");
  if (!v) return tl::unexpected(v.error());
  // {replica: [{pid, ppid, user, state, cmd}]} (docs/api.md).
  for (auto& [replica, procs] : v->items()) {
    std::cout << replica << "\n";
    std::vector<std::vector<std::string>> rows;
    for (auto& p : procs) {
      if (!p.is_object()) continue;
      auto field = [&](const char* k) {
        auto it = p.find(k);
        return it == p.end() || it->is_null() ? std::string() : it->is_string() ? it->get<std::string>() : it->dump();
      };
      rows.push_back({field("pid"), field("ppid"), field("user"), field("state"), field("cmd")});
    }
    print_table({"PID", "PPID", "USER", "STATE", "CMD"}, rows);
    std::cout << "\n";
  }
  return {};
}

Result<> cmd_stats(const StackOptions& o, bool no_stream) {
  std::string name;
  auto client = connect_for(o, name);
  if (!client) return tl::unexpected(client.error());
  bool tty = ::isatty(STDOUT_FILENO);
  for (;;) {
    auto v = client->call("GET", "/v1/stacks/" + name + "/stats");
    if (!v) return tl::unexpected(v.error());
    std::vector<std::vector<std::string>> rows;
    for (auto& s : *v) {
      char cpu[32];
      std::snprintf(cpu, sizeof(cpu), "%.2f%%", s.value("cpu_percent", 0.0));
      auto num = [&](const char* k) {
        auto it = s.find(k);
        return it != s.end() && it->is_number() ? it->get<double>() : 0.0;
      };
      double lim = num("memory_limit");
      // As docker stats: usage less reclaimable page cache (the working set).
      double used = s.contains("memory_working_set") ? num("memory_working_set") : num("memory_usage");
      rows.push_back({s.value("name", ""), cpu,
                      human_bytes(used) + " / " + (lim > 0 ? human_bytes(lim) : "-"),
                      std::to_string(static_cast<int64_t>(num("pids"))),
                      human_bytes(num("net_rx_bytes")) + " / " + human_bytes(num("net_tx_bytes"))});
    }
    if (tty && !no_stream) std::cout << "\x1b[H\x1b[2J";
    print_table({"NAME", "CPU %", "MEM USAGE / LIMIT", "PIDS", "NET I/O"}, rows);
    std::cout << std::flush;
    if (no_stream) return {};
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

Result<> cmd_autoscale(const StackOptions& o, const std::string& format) {
  std::string name;
  auto client = connect_for(o, name);
  if (!client) return tl::unexpected(client.error());
  auto v = client->call("GET", "/v1/stacks/" + name + "/autoscale");
  if (!v) return tl::unexpected(v.error());
  if (format == "json") {
    std::cout << v->dump() << "\n";
    return {};
  }
  if (!format.empty() && format != "table") return fail("--format " + format + ": expected table or json");
  // "91% / 70%": the last reading's average over the replicas that counted,
  // and the target; "-" where the service has no such target.
  auto column = [](const json& row, const char* key, const char* unit) -> std::string {
    const json target = row["targets"].value(key, json(nullptr));
    if (!target.is_number()) return "-";
    const json seen = row.contains("reading") ? row["reading"].value(key, json(nullptr)) : json(nullptr);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s / %.0f%s", seen.is_number() ? (std::to_string(std::lround(seen.get<double>())) + unit).c_str() : "?",
                  target.get<double>(), unit);
    return buf;
  };
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : *v) {
    std::string last = row.value("last_reason", "");
    const int64_t at = row.value("last_change_at", int64_t{0});
    if (!last.empty() && at > 0) last += " (" + std::to_string(std::max<int64_t>(0, (now_ms() - at) / 1000)) + "s ago)";
    rows.push_back({row.value("service", ""),
                    std::to_string(row.value("replicas", 0)) + " (" + std::to_string(row.value("min", 0)) + ".." +
                        std::to_string(row.value("max", 0)) + ")",
                    column(row, "cpu", "%"), column(row, "memory", "%"), column(row, "rps", ""),
                    last.empty() ? "-" : last});
  }
  print_table({"SERVICE", "REPLICAS", "CPU", "MEMORY", "REQ/S", "LAST CHANGE"}, rows);
  return {};
}

Result<> cmd_events(const StackOptions& o, bool as_json, bool every_stack, const std::string& since_text) {
  // The daemon numbers its events; a time is applied here, over every event
  // it kept (since=0).
  std::optional<int64_t> since;
  if (!since_text.empty()) {
    auto t = compose::parse_time(since_text, now_ms());
    if (!t) return tl::unexpected(t.error().within("--since"));
    since = *t;
  }
  std::string name;
  Result<ApiClient> client = every_stack ? ApiClient::connect(o.client) : connect_for(o, name);
  if (!client) return tl::unexpected(client.error());
  std::string target = "/v1/events?" + std::string(since ? "since=0&" : "") +
                       (name.empty() ? std::string() : "stack=" + url_escape(name));
  return client->stream(target, nullptr, [&](const json& j) {
    if (since && j.value("time_ms", int64_t{0}) < *since) return true;
    if (as_json) {
      std::cout << j.dump() << "\n" << std::flush;
      return true;
    }
    auto e = orch::event_from_json(j);
    if (!e) return true;
    time_t s = static_cast<time_t>(e->time_ms / 1000);
    tm t{};
    localtime_r(&s, &t);
    char ts[40];
    std::strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &t);
    std::string attrs;
    for (auto& [k, v] : e->attrs) attrs += (attrs.empty() ? "" : ", ") + k + "=" + v;
    std::string subject = e->replica.empty() ? "stack " + e->stack : "container " + e->replica;
    std::cout << ts << " " << subject << " " << e->type << (attrs.empty() ? "" : " (" + attrs + ")") << "\n"
              << std::flush;
    return true;
  });
}

}  // namespace stack::cli
