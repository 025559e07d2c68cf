#include "orchestrator/daemon/store/etcd/etcd_watch.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "orchestrator/daemon/store/etcd/etcd_conn.h"

namespace stack::orch::etcd {
namespace {

namespace pb = etcdserverpb;
using Clock = std::chrono::steady_clock;

// How long a catch-up may wait for etcd's progress answer before the watch
// is reported broken, and how often the progress request is repeated (etcd
// 3.4 drops one while the watcher is still replaying history).
constexpr auto kCatchUpLimit = std::chrono::seconds(10);
constexpr auto kProgressRetry = std::chrono::milliseconds(50);
// etcd 3.4 (Debian 12 ships 3.4.23) replays a watch's history from a loop
// that runs every 100 ms, and answers a progress request at once, without
// waiting for that replay (etcd issue 15220, fixed in 3.4.24 and 3.5.8). So a
// watch from the past trusts progress answers only from this long after its
// creation; events themselves are always trusted.
constexpr auto kReplaySettle = std::chrono::milliseconds(500);

class EtcdWatch final : public StoreWatch {
 public:
  EtcdWatch(std::shared_ptr<Conn> conn, std::function<stack::Result<Revision>()> current)
      : conn_(std::move(conn)), current_(std::move(current)) {}

  ~EtcdWatch() override {
    ctx_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }

  stack::Result<void> start(const std::string& key, bool prefix, Revision from) {
    auto now = current_();
    if (!now) return tl::unexpected(now.error());
    if (from <= *now) {
      settled_ = false;
      settle_at_ = Clock::now() + kReplaySettle;
    }
    stream_ = conn_->watch().Watch(&ctx_);
    pb::WatchRequest req;
    auto* create = req.mutable_create_request();
    conn_->set_range(key, prefix, create->mutable_key(), create->mutable_range_end());
    create->set_start_revision(from);
    if (!write(req)) return stack::fail("etcd watch " + key + " at " + conn_->endpoints() + ": the stream closed");
    reader_ = std::thread([this] { read_loop(); });
    // Until etcd has replayed the history up to now: a compacted start shows
    // here, as etcd cancels such a watcher straight after creating it.
    return catch_up(std::max(*now, from - 1));
  }

  stack::Result<std::vector<WatchEvent>> poll() override {
    auto now = current_();
    if (!now) return tl::unexpected(now.error());
    auto caught = catch_up(*now);
    std::unique_lock lock(mu_);
    if (!queue_.empty() || caught) return drain();
    return tl::unexpected(caught.error());
  }

  stack::Result<std::vector<WatchEvent>> wait(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return !queue_.empty() || failed_; });
    if (queue_.empty() && failed_) return tl::unexpected(error_);
    return drain();
  }

 private:
  bool write(const pb::WatchRequest& req) {
    std::lock_guard lock(write_mu_);  // gRPC allows one writer at a time
    return stream_->Write(req);
  }

  // Returns once etcd has sent every event up to `revision` (an event at or
  // past it, or a progress response saying so), or the watch failed.
  stack::Result<void> catch_up(Revision revision) {
    std::unique_lock lock(mu_);
    if (!settled_) {
      lock.unlock();
      std::this_thread::sleep_until(settle_at_);
      lock.lock();
      settled_ = true;
    }
    auto deadline = Clock::now() + kCatchUpLimit;
    while (!failed_ && progress_ < revision) {
      if (Clock::now() >= deadline)
        return stack::fail("etcd watch at " + conn_->endpoints() + ": no progress answer within " +
                           std::to_string(kCatchUpLimit.count()) + " s");
      lock.unlock();
      pb::WatchRequest req;
      req.mutable_progress_request();
      bool sent = write(req);
      lock.lock();
      if (!sent && !failed_) cv_.wait_for(lock, kProgressRetry, [this] { return failed_; });
      else cv_.wait_for(lock, kProgressRetry, [&] { return failed_ || progress_ >= revision; });
    }
    if (failed_) return tl::unexpected(error_);
    return {};
  }

  std::vector<WatchEvent> drain() {
    std::vector<WatchEvent> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    return out;
  }

  void read_loop() {
    pb::WatchResponse resp;
    while (stream_->Read(&resp)) {
      std::lock_guard lock(mu_);
      if (resp.canceled()) {
        fail_locked(resp.compact_revision() > 0
                        ? stack::Error{0, std::string("etcd watch: ") + kErrCompacted + " (compacted to " +
                                              std::to_string(resp.compact_revision()) + ")"}
                        : stack::Error{0, "etcd watch canceled: " + resp.cancel_reason()});
        continue;
      }
      for (const auto& ev : resp.events()) {
        WatchEvent e;
        if (ev.type() == pb::Event::DELETE) {
          e.type = WatchEvent::Delete;
          e.kv.key = conn_->strip(ev.kv().key());
          e.kv.mod_revision = ev.kv().mod_revision();
        } else {
          e.kv = conn_->to_kv(ev.kv());
        }
        // A txn's events reach a watcher in one response, so an event at
        // revision r means everything up to r has been sent.
        progress_ = std::max(progress_, e.kv.mod_revision);
        queue_.push_back(std::move(e));
      }
      if (!resp.created() && resp.events_size() == 0 && settled_)
        progress_ = std::max(progress_, resp.header().revision());
      cv_.notify_all();
    }
    auto status = stream_->Finish();
    std::lock_guard lock(mu_);
    if (!failed_) fail_locked(conn_->error("watch stream", status));
  }

  void fail_locked(stack::Error e) {
    if (failed_) return;
    failed_ = true;
    error_ = std::move(e);
    cv_.notify_all();
  }

  std::shared_ptr<Conn> conn_;
  std::function<stack::Result<Revision>()> current_;
  grpc::ClientContext ctx_;  // the stream's, without deadline; cancelled by the destructor
  std::unique_ptr<grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>> stream_;
  std::mutex write_mu_;
  std::thread reader_;

  std::mutex mu_;  // guards what follows
  std::condition_variable cv_;
  std::deque<WatchEvent> queue_;
  Revision progress_ = 0;  // etcd has sent every event up to here
  bool settled_ = true;     // progress answers are trusted (kReplaySettle)
  Clock::time_point settle_at_;
  bool failed_ = false;
  stack::Error error_;
};

}  // namespace

stack::Result<std::unique_ptr<StoreWatch>> open_watch(std::shared_ptr<Conn> conn, const std::string& key, bool prefix,
                                                      Revision from,
                                                      std::function<stack::Result<Revision>()> current_revision) {
  auto w = std::make_unique<EtcdWatch>(std::move(conn), std::move(current_revision));
  auto started = w->start(key, prefix, from);
  if (!started) return tl::unexpected(started.error());
  return std::unique_ptr<StoreWatch>(std::move(w));
}

}  // namespace stack::orch::etcd
