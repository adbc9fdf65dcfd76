// gRPC callback-API reactors that connect a call to its work item: client
// cancellation reaches the item (OnCancel), Finish happens exactly once, and a
// stream writes one message at a time from a queue.
#ifndef HEED_SERVER_SERVICE_REACTORS_H_
#define HEED_SERVER_SERVICE_REACTORS_H_

#include <deque>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_callback.h"
#include "server/scheduler/work_item.h"

namespace heed::server {

// Passes a call's cancellation to its work item, whichever comes first.
class CancellationLink {
 public:
  void Watch(std::shared_ptr<WorkItem> item) {
    absl::MutexLock lock(&mu_);
    item_ = std::move(item);
    if (cancelled_) item_->Cancel();
  }
  void Cancel() {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    if (item_ != nullptr) item_->Cancel();
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<WorkItem> item_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

class UnaryReactor final : public grpc::ServerUnaryReactor {
 public:
  void Watch(std::shared_ptr<WorkItem> item) { link_.Watch(std::move(item)); }
  void OnCancel() override { link_.Cancel(); }
  void OnDone() override { delete this; }

 private:
  CancellationLink link_;
};

template <typename Message>
class StreamReactor final : public grpc::ServerWriteReactor<Message> {
 public:
  void Watch(std::shared_ptr<WorkItem> item) { link_.Watch(std::move(item)); }
  // Queues a message; messages go out in order, one write at a time.
  void Send(Message message) {
    {
      absl::MutexLock lock(&mu_);
      if (ending_) return;
      pending_.push_back(std::move(message));
    }
    Pump();
  }
  // Ends the stream after the queued messages (or at once on error).
  void End(grpc::Status status) {
    {
      absl::MutexLock lock(&mu_);
      if (ending_) return;
      ending_ = true;
      status_ = std::move(status);
      if (!status_.ok()) pending_.clear();
    }
    Pump();
  }
  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) pending_.clear();
    }
    if (!ok) link_.Cancel();  // the client is gone: stop generating for it
    Pump();
  }
  void OnCancel() override { link_.Cancel(); }
  void OnDone() override { delete this; }

 private:
  // Starts the next write or the finish outside the lock: gRPC may run the
  // resulting reaction on this thread.
  void Pump() {
    enum { kNothing, kWrite, kFinish } action = kNothing;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (!pending_.empty()) {
        current_ = std::move(pending_.front());
        pending_.pop_front();
        writing_ = true;
        action = kWrite;
      } else if (ending_) {
        finished_ = true;
        action = kFinish;
      }
    }
    if (action == kWrite) this->StartWrite(&current_);
    if (action == kFinish) this->Finish(status_);
  }

  CancellationLink link_;
  absl::Mutex mu_;
  std::deque<Message> pending_ ABSL_GUARDED_BY(mu_);
  Message current_;
  grpc::Status status_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_REACTORS_H_
