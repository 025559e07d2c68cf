// EngineImpl::logs: the json-file logs of a stack's replicas, merged by
// time. tail applies per replica (as `docker compose logs --tail` does);
// follow polls the files every 200 ms (cheap: one fstat per replica; a
// request to its node for a replica on another node of a cluster) and
// picks up replicas that appear later (restarts, scale-up) from their start.
#include <algorithm>
#include <chrono>
#include <thread>

#include "orchestrator/daemon/engine/engine_impl.h"
#include "orchestrator/daemon/engine/log_reader.h"

namespace stack::orch {
namespace {

struct Source {
  std::string service, replica;
  std::vector<LogCursor> files;  // oldest first; only the last one grows
};

bool wanted(const LogOptions& o, const std::string& service) {
  return o.services.empty() || std::find(o.services.begin(), o.services.end(), service) != o.services.end();
}

}  // namespace

stack::Result<void> EngineImpl::logs(const std::string& stack, const LogOptions& options,
                                  const std::function<bool(const LogLine&)>& sink, const std::atomic<bool>& cancel) {
  auto sup = need(stack);
  if (!sup) return tl::unexpected(sup.error());
  STACK_TRY(check_services((*sup)->project(), options.services, "logs"));
  std::map<std::string, Source> sources;  // container id -> files

  // New lines of every source (new replicas included), tail applied on the
  // first read of each source only.
  auto collect = [&](bool first) {
    std::vector<LogLine> lines;
    for (const auto& r : (*sup)->replicas()) {
      const std::string& id = r.status.container_id;
      if (id.empty() || !wanted(options, r.status.service)) continue;
      auto [it, fresh] = sources.try_emplace(id);
      if (fresh) {
        it->second.service = r.status.service;
        it->second.replica = r.name;
        if (LocalNode* n = node_of(r))
          for (const auto& f : n->log_files(id)) it->second.files.push_back({f, 0});
      }
      // Through the replica's node: a file here, or one that another node
      // of a cluster reads for us (node_routes.h).
      LocalNode* node = node_of(r);
      if (!node) continue;
      std::vector<LogLine> mine;
      for (auto& c : it->second.files)
        for (auto raw = node->read_log(id, c.path, c.offset); !raw.empty(); raw = node->read_log(id, c.path, c.offset))
          for (const auto& text : raw) {  // in chunks (read_log stops at about 1 MiB)
            auto parsed = parse_log_line(text);
            if (!parsed) continue;
            LogLine& l = *parsed;
            if (options.since_ms > 0 && l.time_ns / 1000000 < options.since_ms) continue;
            l.service = it->second.service;
            l.replica = it->second.replica;
            mine.push_back(std::move(l));
          }
      if (first && options.tail >= 0 && mine.size() > static_cast<size_t>(options.tail))
        mine.erase(mine.begin(), mine.end() - options.tail);
      lines.insert(lines.end(), std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()));
    }
    std::stable_sort(lines.begin(), lines.end(), [](const LogLine& a, const LogLine& b) { return a.time_ns < b.time_ns; });
    return lines;
  };

  bool first = true;
  for (;;) {
    for (const auto& l : collect(first))
      if (cancel.load() || !sink(l)) return {};
    first = false;
    if (!options.follow || cancel.load()) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (cancel.load() || !find(stack)) return {};
  }
}

}  // namespace stack::orch
