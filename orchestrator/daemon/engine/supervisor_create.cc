// A replica's creation, in three steps so that many go together (a
// batch on another node's: each waits for that node's report):
//   prepare_create  (mu_ held) the task's record, its id and plan
//   launch          (no lock) the node's create_and_start, the old
//                   incarnation's removal around it
//   finish_create   (mu_ held) the result recorded, the exit watched
// do_create runs them in turn; do_creates prepares a batch in chunks
// (kPrepareChunk), each chunk's launches starting (kParallelCreates at once)
// while the next is prepared, and writes the batch's records in
// transactions of up to kMaxTxnOps operations.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <random>
#include <thread>

#include "orchestrator/compose/normalize.h"
#include "orchestrator/daemon/engine/replica_store.h"
#include "orchestrator/daemon/engine/supervisor.h"
#include "scheduler/health.h"

namespace stack::orch {
namespace {

using sched::ReplicaState;

// How many creates of a batch wait on their nodes at once.
constexpr size_t kParallelCreates = 256;
// How many creates are prepared (records, plans, events) before those
// leave: the first assignments go out while the rest are prepared.
constexpr size_t kPrepareChunk = 512;

std::string random_hex6() {
  static thread_local std::mt19937 gen{std::random_device{}()};
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06x", static_cast<unsigned>(gen() & 0xffffff));
  return buf;
}

}  // namespace

std::optional<Supervisor::PreparedCreate> Supervisor::prepare_create(const sched::Action& a, bool restart) {
  const std::string& service = a.service;
  const int slot = a.slot;
  const sched::ServiceSpec* ss = service_spec(service);
  LocalNode* node = node_by_id(a.node);
  if (!ss || !node || !desired_.project.services.count(service)) return std::nullopt;
  // The task this replaces: the one acted on (Restart), else the slot's
  // current one. A Pending task (no container yet) is filled in; anything
  // else is followed by a new task, the next incarnation.
  ReplicaRecord* prev = restart ? find_task(a) : current_task(service, slot);
  // A running task is replaced only when its node is down (lost: it goes at
  // once), or keep_old (a drained node, a start-first update: it keeps
  // running, superseded, until reconcile stops it once this one serves).
  const bool live = prev && !prev->status.container_id.empty() &&
                    (prev->status.state == ReplicaState::Running || prev->status.state == ReplicaState::Stopping);
  const bool move_off = live && !restart && (a.keep_old || node_drained(prev->status.node));
  if (live && !node_down(prev->status.node) && !move_off) return std::nullopt;
  if (prev && restart && prev != current_task(service, slot)) return std::nullopt;  // superseded meanwhile
  std::string old = prev && !move_off ? prev->status.container_id : "";
  Task old_task = prev ? task_of(prev->status) : Task{};
  LocalNode* old_node = old.empty() ? nullptr : node_by_id(prev->status.node);
  // Only a task that never had a container is filled in. One whose container
  // is gone (removed for a new config, lost with its shim) is finished: its
  // successor replaces it at once, so that every container is a task of its
  // own.
  ReplicaRecord* rp = prev;
  if (!prev || !old.empty() || move_off || prev->status.created_at != 0) {
    ReplicaRecord next;
    if (prev) next.status = prev->status;  // restart counts and history belong to the slot
    next.status.incarnation = prev ? prev->status.incarnation + 1 : 1;
    next.status.service = service;
    next.status.slot = slot;
    rp = &(replicas_[task_of(next.status)] = std::move(next));
    if (prev && old.empty() && !move_off) {
      drop_record(prev->status);
      replicas_.erase(old_task);
      prev = nullptr;
    }
  }
  ReplicaRecord& r = *rp;
  // Restart counts belong to the slot: they survive policy restarts and a
  // re-creation after a reboot, and start over only with a new config.
  bool new_config = r.status.config_hash != ss->config_hash;
  std::string id = desired_.project.name + "-" + service + "-" + std::to_string(slot) + "-" + random_hex6();
  ReplicaPlan plan = make_plan(desired_.project, service, slot, id, desired_.networks, ctx_.options.root + "/volumes");
  if (!source_) source_ = std::make_shared<const PlanSource>(PlanSource{desired_.project, desired_.networks});
  plan.source = source_;
  sched::ReplicaStatus& s = r.status;
  s.stack = desired_.project.name;
  s.node = a.node;
  s.container_id = id;
  s.state = ReplicaState::Created;
  s.health = {};
  s.exit_code = 0;
  s.oom_killed = false;
  s.created_at = ctx_.clock.now();
  s.started_at = s.finished_at = s.stop_requested_at = 0;
  s.stopped_by_user = s.start_requested = false;
  if (!restart && new_config) {
    s.restart_count = s.restart_streak = 0;
    s.restart_times.clear();
  }
  s.config_hash = ss->config_hash;
  r.name = plan.name;
  r.image = plan.service.image;
  r.command = plan.service.command.value_or(std::vector<std::string>{});
  r.addresses.clear();
  r.pid = r.shim_pid = 0;
  r.netns_path.clear();
  save(r);
  emit("create", service, r.name, {{"image", r.image}, {"reason", a.reason}});
  // The old incarnation's teardown (veth, netns, overlay: tens of ms) is off
  // the crash-to-running path: it goes after the new one started, unless the
  // new one needs what the old holds (a static IP or MAC address).
  bool static_ip = false;
  for (const auto& n : plan.networks) static_ip = static_ip || !n.ipv4_address.empty() || !n.mac_address.empty();
  std::string join_error = resolve_joins(plan, a.node);
  return PreparedCreate{service, slot, task_of(r.status), id, node, std::move(plan), old, old_task, old_node,
                        static_ip, stack::fail("not started"), join_error};
}

std::string Supervisor::resolve_joins(ReplicaPlan& plan, const std::string& node) {
  const std::pair<const char*, std::string*> joins[] = {
      {"network_mode", &plan.service.network_mode}, {"pid", &plan.service.pid}, {"ipc", &plan.service.ipc}};
  for (const auto& [field, mode] : joins) {
    std::string target;
    if (mode->rfind("service:", 0) == 0) target = mode->substr(8);
    else if (mode->rfind("container:", 0) == 0)
      if (const std::string* named = compose::service_with_container_name(desired_.project, mode->substr(10)))
        target = *named;
    if (target.empty()) continue;
    const ReplicaRecord* r = current_task(target, 1);
    const std::string why = std::string(field) + " " + *mode + ": ";
    if (!r || r->status.container_id.empty() || r->status.state != ReplicaState::Running)
      return why + "service " + target + " has no running replica to join (yet)";
    if (r->status.node != node)
      return why + "service " + target + " runs on node " + r->status.node + ", not on " + node;
    *mode = "container:" + r->status.container_id;
  }
  return "";
}

void Supervisor::launch(PreparedCreate& c) {
  if (!c.join_error.empty()) {
    c.started = stack::fail(c.join_error, EAGAIN);
    return;
  }
  if (c.old_node && c.static_ip) (void)c.old_node->remove({c.old});
  c.started = c.node->create_and_start(c.plan);
  if (c.old_node && !c.static_ip) (void)c.old_node->remove({c.old});
}

bool Supervisor::finish_create(std::unique_lock<std::mutex>& lk, PreparedCreate& c, bool rewire_now) {
  const std::string &service = c.service, &id = c.id, &old = c.old;
  const int slot = c.slot;
  LocalNode* node = c.node;
  const Task& old_task = c.old_task;
  auto& started = c.started;
  const sched::ServiceSpec* ss = service_spec(service);
  // The old task is gone with its container: its record goes too.
  if (!old.empty()) {
    auto ot = replicas_.find(old_task);
    if (ot != replicas_.end() && ot->second.status.container_id == old) {
      killed_.erase(old);
      drop_record(ot->second.status);
      replicas_.erase(ot);
    }
  }

  // Its task, unless it went meanwhile (find_by_id would scan every task:
  // quadratic over a batch of thousands).
  ReplicaRecord* cur = nullptr;
  if (auto t = replicas_.find(c.task); t != replicas_.end() && t->second.status.container_id == id) cur = &t->second;
  if (!cur) {  // the slot went away meanwhile (down): do not leak the container
    if (started) {
      lk.unlock();
      (void)node->remove({id});
      lk.lock();
    }
    return true;
  }
  if (!started) {
    cur->status.state = ReplicaState::Exited;
    cur->status.exit_code = kCreateFailed;
    cur->status.finished_at = ctx_.clock.now();
    errors_[{service, slot}] = cur->name + ": " + started.error().message();
    save(*cur);
    emit("error", service, cur->name, {{"reason", started.error().message()}});
    return true;
  }
  errors_.erase({service, slot});
  cur->status.state = ReplicaState::Running;
  // A `start`/`up` while it was being created (the lock is let go for the
  // launch) saw it Created and asked for a start: it has one now.
  cur->status.start_requested = false;
  cur->status.started_at = started->started_at_ms ? started->started_at_ms : ctx_.clock.now();
  if (ss && ss->health.kind != sched::ProbeKind::None)
    cur->status.health = sched::health_on_start(ss->health, cur->status.started_at);
  cur->pid = started->pid;
  cur->shim_pid = started->shim_pid;
  cur->netns_path = started->netns_path;
  // The node reports addresses by network name; accept compose keys too.
  for (const auto& [net, ip] : started->addresses) {
    auto k = desired_.networks.find(net);
    cur->addresses[k != desired_.networks.end() ? k->second.name : net] = ip;
  }
  save(*cur);
  emit("start", service, cur->name, {{"pid", std::to_string(cur->pid)}});
  if (rewire_now) rewire();
  lk.unlock();
  watch(node, id);
  lk.lock();
  return true;
}


bool Supervisor::do_create(std::unique_lock<std::mutex>& lk, const sched::Action& a, bool restart) {
  auto c = prepare_create(a, restart);
  if (!c) return false;
  lk.unlock();
  launch(*c);
  lk.lock();
  return finish_create(lk, *c, true);
}

bool Supervisor::batchable(const sched::Action& a) const {
  if (a.kind != sched::ActionKind::Create) return false;
  LocalNode* node = node_by_id(a.node);
  return node && node->concurrent_creates();
}

bool Supervisor::do_creates(std::unique_lock<std::mutex>& lk, const std::vector<sched::Action>& actions) {
  // A pipeline over the batch, so that the store, the nodes and this
  // thread work at once: chunks of kPrepareChunk are prepared (mu_ held:
  // prepare_create reads and changes replicas_) and their records written;
  // launchers (kParallelCreates threads, no lock) take them as they come;
  // this thread finishes those that landed (in the order they did) between
  // chunks and, once all are prepared, as they land.
  // The launch queue: a deque, so that the creates handed out stay where
  // they are as more come; `taken` counts those handed out. Launchers wait
  // on work_cv, this thread on landed_cv (a landing wakes no launcher).
  std::mutex qmu;
  std::condition_variable work_cv, landed_cv;
  std::deque<PreparedCreate> creates;
  size_t taken = 0;
  bool all_in = false;
  std::vector<size_t> landed;  // launched, not yet finished (indices into creates)
  auto launcher = [&] {
    std::unique_lock q(qmu);
    while (true) {
      work_cv.wait(q, [&] { return taken < creates.size() || all_in; });
      if (taken == creates.size()) return;
      const size_t i = taken++;
      PreparedCreate& c = creates[i];
      q.unlock();
      launch(c);
      q.lock();
      landed.push_back(i);
      landed_cv.notify_one();
    }
  };
  std::vector<std::thread> launchers;
  RecordBatch records;
  size_t finished = 0;
  // Finishes the creates that landed, in the order they did; with `wait`,
  // all of them, waiting (mu_ let go) for those still out.
  auto finish_landed = [&](bool wait) {
    std::vector<size_t> now;
    while (true) {
      {
        std::unique_lock q(qmu);
        if (finished == creates.size()) break;
        if (landed.empty()) {
          if (!wait) break;
          q.unlock();  // mu_ before qmu, always
          lk.unlock();
          q.lock();
          landed_cv.wait(q, [&] { return !landed.empty(); });
          q.unlock();
          lk.lock();
          continue;
        }
        now.swap(landed);
      }
      save_batch_ = &records;
      for (size_t i : now) (void)finish_create(lk, creates[i], false);
      save_batch_ = nullptr;
      finished += now.size();
      now.clear();
      if (records.size() >= kPrepareChunk) write_records(records);
    }
  };
  for (size_t from = 0; from < actions.size(); from += kPrepareChunk) {
    std::vector<PreparedCreate> chunk;
    save_batch_ = &records;
    for (size_t i = from; i < std::min(actions.size(), from + kPrepareChunk); i++)
      if (auto c = prepare_create(actions[i], false)) chunk.push_back(std::move(*c));
    save_batch_ = nullptr;
    write_records(records);
    if (!chunk.empty()) {
      {
        std::lock_guard q(qmu);
        for (auto& c : chunk) creates.push_back(std::move(c));
      }
      work_cv.notify_all();
      while (launchers.size() < std::min(kParallelCreates, creates.size())) launchers.emplace_back(launcher);
    }
    finish_landed(false);
  }
  {
    std::lock_guard q(qmu);
    all_in = true;
  }
  work_cv.notify_all();
  finish_landed(true);
  write_records(records);
  lk.unlock();
  for (auto& t : launchers) t.join();  // each is done or about to return
  lk.lock();
  if (creates.empty()) return false;
  rewire();
  return true;
}

void Supervisor::drop_record(const sched::ReplicaStatus& s) {
  if (save_batch_) {
    (*save_batch_)[replica_key(desired_.project.name, s)] = std::nullopt;
    return;
  }
  (void)delete_replica(ctx_.store, desired_.project.name, s);
}

void Supervisor::write_records(RecordBatch& records) {
  std::vector<StoreOp> ops;
  for (auto& [key, value] : records)
    ops.push_back(value ? StoreOp{StoreOp::Put, key, std::move(*value), 0} : StoreOp{StoreOp::Delete, key, "", 0});
  records.clear();
  // As save(): a failed write costs history after a restart, not correctness now.
  if (auto w = ctx_.store.commit_chunked(ops); !w)
    emit("error", "", "", {{"reason", "state store: " + w.error().message()}});
}

}  // namespace stack::orch
