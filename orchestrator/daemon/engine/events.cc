#include "orchestrator/daemon/engine/events.h"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace stack::orch {
namespace {

std::string key_of(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "events/%020llu", static_cast<unsigned long long>(seq));
  return buf;
}

}  // namespace

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string event_to_json(const Event& e) {
  nlohmann::json j{{"time_ms", e.time_ms}, {"seq", e.seq},   {"stack", e.stack}, {"service", e.service},
                   {"replica", e.replica}, {"type", e.type}, {"attrs", e.attrs}};
  return j.dump();
}

stack::Result<Event> event_from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return stack::fail("event: not a JSON object");
  try {
    Event e;
    e.time_ms = j.value("time_ms", int64_t{0});
    e.seq = j.value("seq", uint64_t{0});
    e.stack = j.value("stack", "");
    e.service = j.value("service", "");
    e.replica = j.value("replica", "");
    e.type = j.value("type", "");
    if (j.contains("attrs")) e.attrs = j["attrs"].get<std::map<std::string, std::string>>();
    return e;
  } catch (const std::exception& ex) {
    return stack::fail(std::string("event: ") + ex.what());
  }
}

EventBus::EventBus(StateStore* store) : store_(store) {
  if (!store_) return;
  auto all = store_->list("events/");
  if (!all) return;  // history is a convenience; a broken entry must not stop the daemon
  for (const auto& [key, value] : *all) {
    auto e = event_from_json(value);
    if (!e) continue;
    seq_ = std::max(seq_, e->seq);
    ring_.push_back(std::move(*e));
  }
  while (ring_.size() > kKeep) ring_.pop_front();
}

uint64_t EventBus::publish(Event event) {
  std::lock_guard lock(mu_);
  event.seq = ++seq_;
  if (event.time_ms == 0) event.time_ms = now_ms();
  ring_.push_back(event);
  if (ring_.size() > kKeep) ring_.pop_front();
  if (store_) {
    std::vector<StoreOp> ops{{StoreOp::Put, key_of(event.seq), event_to_json(event)}};
    if (event.seq > kKeep) ops.push_back({StoreOp::Delete, key_of(event.seq - kKeep), ""});
    (void)store_->commit(ops);  // best effort: events are not desired state
  }
  for (auto& s : subs_) s->sink(event);
  return event.seq;
}

Engine::Subscription EventBus::subscribe(uint64_t since_seq, std::function<void(const Event&)> sink) {
  auto sub = std::make_shared<Sub>(Sub{std::move(sink)});
  std::lock_guard lock(mu_);
  for (const auto& e : ring_)
    if (e.seq > since_seq) sub->sink(e);
  auto it = subs_.insert(subs_.end(), sub);
  // The token unsubscribes when the last copy is dropped.
  return std::shared_ptr<void>(nullptr, [this, it](void*) {
    std::lock_guard l(mu_);
    subs_.erase(it);
  });
}

std::vector<Event> EventBus::recent(uint64_t since_seq) const {
  std::lock_guard lock(mu_);
  std::vector<Event> out;
  for (const auto& e : ring_)
    if (e.seq > since_seq) out.push_back(e);
  return out;
}

uint64_t EventBus::last_seq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

}  // namespace stack::orch
