// Stack verbs that change or describe a stack as a whole: selection of the
// stack, up (progress display, attached logs, Ctrl-C stop), down, start /
// stop / restart, scale, plan, rollback, pull, config, version, ls, inspect.
#include "orchestrator/cli/stack_commands.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <filesystem>
#include <future>
#include <iostream>
#include <set>
#include <thread>

#include "orchestrator/cli/log_printer.h"
#include "orchestrator/compose/build.h"
#include "orchestrator/api/api_json.h"
#include "orchestrator/project_name.h"

extern char** environ;

namespace stack::cli {

using nlohmann::json;
using stack::fail;

namespace {

std::string stack_path(const std::string& name, const std::string& verb = "") {
  return "/v1/stacks/" + name + (verb.empty() ? "" : "/" + verb);
}

// Events of `stack` fed to `progress` from a thread, live from before the
// caller's request until finish() or stop().
class ProgressFeed {
 public:
  ProgressFeed(const ApiClient& client, const std::string& stack, UpProgress& progress) {
    auto opened = std::make_shared<std::promise<void>>();
    auto once = std::make_shared<std::once_flag>();
    auto signal_open = [opened, once] { std::call_once(*once, [&] { opened->set_value(); }); };
    thread_ = std::thread([&client, stack, &progress, signal_open, this] {
      (void)client.stream(
          "/v1/events?stack=" + url_escape(stack), signal_open,
          [&](const json& j) {
            auto e = orch::event_from_json(j);
            if (!e) return true;
            progress.on_event(*e);
            if (e->type == "settled") {
              std::lock_guard lk(mu_);
              settled_ = true;
              cv_.notify_all();
            }
            return true;
          },
          &cancel_);
      signal_open();  // the stream could not open: go on without progress
      std::lock_guard lk(mu_);
      ended_ = true;
      cv_.notify_all();
    });
    opened->get_future().wait();
  }
  ~ProgressFeed() { stop(); }
  // After up answered: the events it published before answering are on
  // their way on another connection, so the feed reads on until stackd's
  // "settled" (published just before the answer) or `limit`, then stops.
  void finish(std::chrono::milliseconds limit) {
    {
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, limit, [this] { return settled_ || ended_; });
    }
    stop();
  }
  void stop() {
    cancel_.cancel();
    if (thread_.joinable()) thread_.join();
  }

 private:
  StreamCancel cancel_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool settled_ = false;  // guarded by mu_
  bool ended_ = false;    // the stream ended (or never opened)
  std::thread thread_;
};

// `up` without -d: logs until Ctrl-C; the first Ctrl-C stops the stack
// gracefully, a second one stops waiting (stackd finishes the stop).
// `services`: whose output is followed (empty: every service's); `none`:
// no service is attached (every one says attach: false), so nothing is
// followed and Ctrl-C alone ends it.
Result<> attach(const ApiClient& client, const std::string& stack, const std::vector<std::string>& services, bool none) {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // threads below inherit it; sigwait() takes them here

  StreamCancel logs_cancel;
  std::atomic<bool> logs_done{false}, stop_done{false};
  Result<> stop_result;
  std::thread logs([&] {
    if (none) return;  // logs_done stays false: only a signal ends the wait
    LogFlags f;
    f.follow = true;
    f.services = services;
    (void)print_logs(client, stack, f, &logs_cancel);
    logs_done = true;
    ::kill(::getpid(), SIGUSR1);
  });
  std::thread stopper;
  bool stopping = false;
  Result<> result;
  for (;;) {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig == SIGUSR1) {
      if (stop_done) {
        result = stop_result;
        break;
      }
      if (logs_done && !stopping) break;  // every container ended its output
      continue;
    }
    if (!stopping) {
      stopping = true;
      std::cerr << "Gracefully stopping... (press Ctrl+C again to force)\n";
      stopper = std::thread([&] {
        auto r = client.call("POST", stack_path(stack, "stop"), json::object());
        if (!r) stop_result = tl::unexpected(r.error());
        stop_done = true;
        ::kill(::getpid(), SIGUSR1);
      });
      continue;
    }
    // Second Ctrl-C: stop waiting; the daemon completes the stop on its own.
    logs_cancel.cancel();
    logs.join();
    stopper.detach();
    return fail("interrupted: not waiting for the stop to finish (stackd completes it)");
  }
  logs_cancel.cancel();
  logs.join();
  if (stopper.joinable()) stopper.join();
  return result;
}

}  // namespace

Result<compose::Project> load_stack(const StackOptions& o, bool file_data) {
  compose::LoadOptions lo;
  lo.read_file_data = file_data;
  lo.files = o.files;
  std::error_code ec;
  lo.working_dir = std::filesystem::current_path(ec).string();
  lo.project_name = o.project_name;
  lo.profiles = o.profiles;
  lo.env_files = o.env_files;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) lo.environment[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto r = compose::load_project(lo);
  if (!r) return tl::unexpected(r.error());
  for (auto& w : r->warnings) std::cerr << "warning: " << w.to_string() << "\n";
  return std::move(r->project);
}

Result<std::string> stack_name(const StackOptions& o) {
  if (!o.project_name.empty() && o.files.empty()) {
    auto n = orch::normalize_project_name(o.project_name);
    if (!n) return fail("-p " + o.project_name + ": not a valid stack name");
    return *n;
  }
  auto p = load_stack(o, false);
  if (!p) return tl::unexpected(p.error());
  return p->name;
}

Result<> cmd_up(const StackOptions& o, const UpFlags& f) {
  auto project = load_stack(o);
  if (!project) return tl::unexpected(project.error());
  auto client = ApiClient::connect(o.client);
  if (!client) return tl::unexpected(client.error());
  json body{{"project", json::parse(compose::to_json(*project))},
            {"services", f.services},
            {"wait", f.wait},
            {"wait_timeout_ms", f.wait_timeout_s * 1000},
            {"pull", f.pull}};
  UpProgress progress(project->name, ::isatty(STDOUT_FILENO));
  Result<json> reply;
  {
    ProgressFeed feed(*client, project->name, progress);
    reply = client->call("POST", stack_path(project->name, "up"), body);
    if (reply) feed.finish(std::chrono::seconds(2));
  }
  if (!reply) return tl::unexpected(reply.error());
  auto replicas = orch::replicas_from_json(*reply);
  if (replicas) progress.finish(*replicas);
  if (f.detach) return {};
  // attach: false leaves a service out of what `up` follows (Compose).
  std::vector<std::string> followed;
  bool all = true;
  for (const auto& [name, s] : project->services) {
    if (!f.services.empty() && std::find(f.services.begin(), f.services.end(), name) == f.services.end()) continue;
    if (s.attach) followed.push_back(name);
    else all = false;
  }
  if (all) followed = f.services;
  return attach(*client, project->name, followed, !all && followed.empty());
}

Result<> cmd_down(const StackOptions& o, bool volumes) {
  auto name = stack_name(o);
  if (!name) return tl::unexpected(name.error());
  auto client = ApiClient::connect(o.client);
  if (!client) return tl::unexpected(client.error());
  auto r = client->call("POST", stack_path(*name, "down") + (volumes ? "?volumes=1" : ""), json::object());
  if (!r) return tl::unexpected(r.error());
  std::cout << "Stack " << *name << " removed\n";
  return {};
}

Result<> cmd_lifecycle(const StackOptions& o, const std::string& verb, const std::vector<std::string>& services) {
  auto name = stack_name(o);
  if (!name) return tl::unexpected(name.error());
  auto client = ApiClient::connect(o.client);
  if (!client) return tl::unexpected(client.error());
  auto r = client->call("POST", stack_path(*name, verb), json{{"services", services}});
  if (!r) return tl::unexpected(r.error());
  return {};
}

Result<> cmd_scale(const StackOptions& o, const std::vector<std::string>& assignments) {
  json want = json::object();
  for (auto& a : assignments) {
    auto eq = a.find('=');
    int n = -1;
    try {
      size_t used = 0;
      if (eq != std::string::npos && eq > 0) n = std::stoi(a.substr(eq + 1), &used);
      if (used != a.size() - eq - 1) n = -1;
    } catch (const std::exception&) {
      n = -1;
    }
    if (n < 0) return fail("scale " + a + ": expected SERVICE=N (N >= 0)");
    want[a.substr(0, eq)] = n;
  }
  auto name = stack_name(o);
  if (!name) return tl::unexpected(name.error());
  auto client = ApiClient::connect(o.client);
  if (!client) return tl::unexpected(client.error());
  auto r = client->call("POST", stack_path(*name, "scale"), json{{"replicas", want}});
  if (!r) return tl::unexpected(r.error());
  return {};
}

Result<int> cmd_plan(const StackOptions& o, const std::string& format) {
  auto project = load_stack(o);
  if (!project) return tl::unexpected(project.error());
  auto client = ApiClient::connect(o.client);
  if (!client) return tl::unexpected(client.error());
  auto r = client->call("POST", stack_path(project->name, "plan"),
                        json{{"project", json::parse(compose::to_json(*project))}});
  if (!r) return tl::unexpected(r.error());
  const json& p = *r;
  const int code = p.value("changes", false) ? 2 : 0;  // for CI pipelines: 2 = up would change something
  if (format == "json") {
    std::cout << p.dump(2) << "\n";
    return code;
  }
  std::cout << "Stack " << p.value("stack", "") << (p.value("exists", false) ? "" : " (new)") << ": "
            << (code ? "up would change it" : "up would change nothing") << "\n";
  size_t w = 0;
  for (const auto& s : p["services"]) w = std::max(w, s.value("name", "").size());
  for (const auto& s : p["services"]) {
    std::string name = s.value("name", ""), action = s.value("action", "");
    std::string what;
    int from = s["replicas"].value("from", 0), to = s["replicas"].value("to", 0);
    if (action == "create") what = std::to_string(to) + (to == 1 ? " replica" : " replicas");
    if (action == "scale" || (action == "update" && from != to))
      what = "replicas " + std::to_string(from) + " -> " + std::to_string(to);
    if (action == "update") {
      std::string fields;
      for (const auto& f : s["changed"]) fields += (fields.empty() ? "" : ", ") + f.get<std::string>();
      if (!fields.empty()) what += (what.empty() ? "" : "; ") + fields;
      size_t n = s["replace"].size();
      if (n)
        what += "; replaces " + std::to_string(n) + (n == 1 ? " replica" : " replicas") + " in " +
                std::to_string(s.value("batches", 1)) + (s.value("batches", 1) == 1 ? " batch" : " batches") + " (" +
                s.value("order", "") + ")";
      else
        what += "; applied to the running replicas";
    }
    std::cout << "  " << name << std::string(w - name.size() + 2, ' ') << action << (what.empty() ? "" : "  " + what)
              << "\n";
  }
  auto list = [&](const char* key, const char* label) {
    if (!p.contains(key) || p[key].empty()) return;
    std::string items;
    for (const auto& x : p[key]) items += (items.empty() ? "" : ", ") + x.get<std::string>();
    std::cout << label << items << "\n";
  };
  list("images", "Images to pull: ");
  list("networks", "Networks to create: ");
  list("volumes", "Volumes to create: ");
  return code;
}

Result<> cmd_rollback(const StackOptions& o, const std::string& service) {
  auto name = stack_name(o);
  if (!name) return tl::unexpected(name.error());
  auto client = ApiClient::connect(o.client);
  if (!client) return tl::unexpected(client.error());
  UpProgress progress(*name, ::isatty(STDOUT_FILENO));
  Result<json> reply;
  {
    ProgressFeed feed(*client, *name, progress);
    reply = client->call("POST", stack_path(*name, "rollback"), json{{"service", service}});
    if (reply) feed.finish(std::chrono::seconds(2));
  }
  if (!reply) return tl::unexpected(reply.error());
  progress.finish({});
  return {};
}

Result<> cmd_stack_pull(const StackOptions& o, const GlobalOptions& g, bool quiet) {
  auto project = load_stack(o, false);
  if (!project) return tl::unexpected(project.error());
  std::set<std::string> images;
  for (auto& [n, s] : project->services) {
    // build: without image: names an image a build makes, never a registry's
    // (compose/build.h); Compose skips it too.
    if (compose::image_is_built(*project, s)) {
      if (!quiet) std::cout << n << ": skipped, image " << s.image << " is built, not pulled\n";
      continue;
    }
    images.insert(s.image);
  }
  for (auto& image : images) STACK_TRY(cmd_image_pull(g, image, quiet));
  return {};
}

Result<> cmd_config(const StackOptions& o, const std::string& format, bool services_only) {
  auto project = load_stack(o, false);
  if (!project) return tl::unexpected(project.error());
  if (services_only) {
    for (auto& [n, s] : project->services) std::cout << n << "\n";
    return {};
  }
  if (format == "json")
    std::cout << compose::to_json(*project) << "\n";
  else if (format == "yaml" || format.empty())
    std::cout << compose::to_yaml(*project);
  else
    return fail("--format " + format + ": expected yaml or json");
  return {};
}

Result<> cmd_version(const StackOptions& o) {
  std::cout << "stack version " << orch::kStackVersion << "\n";
  auto client = ApiClient::connect(o.client);
  if (!client) return tl::unexpected(client.error());
  auto v = client->call("GET", "/v1/version");
  if (!v) return tl::unexpected(v.error());
  std::cout << "stackd version " << v->value("version", "?") << " (api " << v->value("api", "?") << ", "
            << v->value("os", "?") << "/" << v->value("arch", "?") << ", root " << v->value("root", "?") << ")\n";
  return {};
}

Result<> cmd_ls(const StackOptions& o, bool quiet) {
  auto client = ApiClient::connect(o.client);
  if (!client) return tl::unexpected(client.error());
  auto v = client->call("GET", "/v1/stacks");
  if (!v) return tl::unexpected(v.error());
  if (!quiet) std::printf("%-24s %-8s %-9s %s\n", "NAME", "GOAL", "RUNNING", "FILES");
  for (auto& j : *v) {
    auto s = orch::stack_from_json(j);
    if (!s) continue;
    if (quiet) {
      std::cout << s->name << "\n";
      continue;
    }
    std::string files;
    for (auto& f : s->files) files += (files.empty() ? "" : ",") + f;
    std::printf("%-24s %-8s %-9s %s\n", s->name.c_str(), s->goal.c_str(),
                (std::to_string(s->running) + "/" + std::to_string(s->replicas)).c_str(), files.c_str());
  }
  return {};
}

Result<> cmd_inspect(const StackOptions& o, const std::vector<std::string>& names) {
  auto name = stack_name(o);
  if (!name) return tl::unexpected(name.error());
  auto client = ApiClient::connect(o.client);
  if (!client) return tl::unexpected(client.error());
  auto v = client->call("GET", stack_path(*name));
  if (!v) return tl::unexpected(v.error());
  if (names.empty()) {
    std::cout << v->dump(2) << "\n";
    return {};
  }
  json out = json::array();
  for (auto& n : names) {
    bool found = false;
    for (auto& r : (*v)["replicas"])
      if (r.value("name", "") == n || r.value("container_id", "") == n ||
          r.value("service", "") + "-" + std::to_string(r.value("replica", 0)) == n) {
        out.push_back(r);
        found = true;
      }
    if (!found) return fail("no such replica in stack " + *name + ": " + n);
  }
  std::cout << out.dump(2) << "\n";
  return {};
}

}  // namespace stack::cli
