#include "orchestrator/daemon/engine/events.h"

#include <chrono>
#include <cstdio>
#include <set>

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
  // History is a convenience: a store that cannot be read, or a broken
  // entry, must not stop the daemon.
  if (auto all = store_->list("events/"))
    for (const auto& [key, value] : *all) {
      auto e = event_from_json(value);
      if (!e) continue;
      seq_ = std::max(seq_, e->seq);
      ring_.push_back(std::move(*e));
    }
  while (ring_.size() > kKeep) ring_.pop_front();
  writer_ = std::thread([this] { write_loop(); });
}

EventBus::~EventBus() {
  {
    std::lock_guard lock(write_mu_);
    stopping_ = true;
  }
  write_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void EventBus::write_loop() {
  std::unique_lock lock(write_mu_);
  for (;;) {
    write_cv_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
    if (queued_.empty() && stopping_) return;
    // A burst (a batch of creates publishes thousands) fills transactions
    // rather than paying one each: a short wait for more.
    if (!stopping_ && queued_.size() < kMaxTxnOps)
      write_cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stopping_ || queued_.size() >= kMaxTxnOps; });
    std::vector<StoreOp> ops;
    ops.swap(queued_);
    lock.unlock();
    write(std::move(ops));
    lock.lock();
  }
}

void EventBus::write(std::vector<StoreOp> ops) {
  std::set<std::string> deleted;
  for (const auto& op : ops)
    if (op.kind == StoreOp::Delete) deleted.insert(op.key);
  std::set<std::string> cancelled;  // put and deleted here: neither is written
  for (const auto& op : ops)
    if (op.kind == StoreOp::Put && deleted.count(op.key)) cancelled.insert(op.key);
  std::vector<StoreOp> kept;
  for (auto& op : ops)
    if (!cancelled.count(op.key)) kept.push_back(std::move(op));
  (void)store_->commit_chunked(kept);  // best effort: events are not desired state
}

uint64_t EventBus::publish(Event event) {
  std::lock_guard lock(mu_);
  event.seq = ++seq_;
  if (event.time_ms == 0) event.time_ms = now_ms();
  ring_.push_back(event);
  if (ring_.size() > kKeep) ring_.pop_front();
  if (store_) {
    {
      std::lock_guard write_lock(write_mu_);
      queued_.push_back({StoreOp::Put, key_of(event.seq), event_to_json(event)});
      if (event.seq > kKeep) queued_.push_back({StoreOp::Delete, key_of(event.seq - kKeep), ""});
    }
    write_cv_.notify_one();
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
