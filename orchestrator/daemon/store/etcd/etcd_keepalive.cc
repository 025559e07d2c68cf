#include "orchestrator/daemon/store/etcd/etcd_keepalive.h"

#include <chrono>

namespace stack::orch::etcd {

namespace pb = etcdserverpb;

struct KeepAliveStream::Stream {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;  // no deadline: the stream lives on; each step has its own
  std::unique_ptr<grpc::ClientAsyncReaderWriterInterface<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse>> rw;

  // Waits for the completion of the operation `tag` until `deadline`.
  bool await(void* tag, std::chrono::system_clock::time_point deadline) {
    void* got = nullptr;
    bool ok = false;
    while (true) {
      auto status = cq.AsyncNext(&got, &ok, deadline);
      if (status != grpc::CompletionQueue::GOT_EVENT) return false;  // timed out (or shut down)
      if (got == tag) return ok;
    }
  }
};

void KeepAliveStream::close(std::unique_ptr<Stream> s) {
  if (!s) return;
  s->ctx.TryCancel();  // the operations still out complete at once, failed
  grpc::Status status;
  static int finish_tag;
  if (s->rw) {
    s->rw->Finish(&status, &finish_tag);
  }
  s->cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (s->cq.Next(&tag, &ok)) {
  }
}

KeepAliveStream::KeepAliveStream(std::shared_ptr<Conn> conn) : conn_(std::move(conn)) {}

KeepAliveStream::~KeepAliveStream() {
  std::lock_guard lk(mu_);
  close(std::move(stream_));
}

stack::Result<int64_t> KeepAliveStream::keep_alive(LeaseId id) {
  static int start_tag, write_tag, read_tag;
  std::lock_guard lk(mu_);
  const auto deadline = std::chrono::system_clock::now() + conn_->request_timeout();
  auto failed = [&](const std::string& step) {
    close(std::move(stream_));
    return stack::fail("etcd lease keep-alive " + std::to_string(id) + ": " + step + " on " + conn_->endpoints() +
                           " failed or took over " + std::to_string(conn_->request_timeout().count()) + " ms",
                       ETIMEDOUT);
  };
  if (!stream_) {
    stream_ = std::make_unique<Stream>();
    stream_->rw = conn_->lease().PrepareAsyncLeaseKeepAlive(&stream_->ctx, &stream_->cq);
    stream_->rw->StartCall(&start_tag);
    if (!stream_->await(&start_tag, deadline)) return failed("opening the stream");
  }
  pb::LeaseKeepAliveRequest req;
  req.set_id(id);
  stream_->rw->Write(req, &write_tag);
  if (!stream_->await(&write_tag, deadline)) return failed("sending");
  pb::LeaseKeepAliveResponse resp;
  stream_->rw->Read(&resp, &read_tag);
  if (!stream_->await(&read_tag, deadline)) return failed("the answer");
  return static_cast<int64_t>(resp.ttl());
}

}  // namespace stack::orch::etcd
