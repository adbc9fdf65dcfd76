// gRPC callback-API reactors that connect a call to its work item: client
// cancellation reaches the item (OnCancel), Finish happens exactly once, and a
// stream writes one message at a time from a bounded queue.
#ifndef HEED_SERVER_SERVICE_REACTORS_H_
#define HEED_SERVER_SERVICE_REACTORS_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/pipelines/status_details.h"
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
  // Stops the item for a reason of the server's (see WorkItem::Abandon).
  // Only the item's own callbacks abandon it, so it is always watched by then.
  void Abandon(const absl::Status& why) {
    absl::MutexLock lock(&mu_);
    if (item_ != nullptr) item_->Abandon(why);
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

// What a stream may hold for a client that does not read: a stream stops
// (its computation too) once its unsent messages would exceed
// max_buffered_bytes (one message is always taken), or once one write has
// waited write_timeout for the client's flow-control window. Both are checked
// when the next message is ready: a stream whose computation has finished
// waits for its client, holding at most max_buffered_bytes.
struct StreamLimits {
  int64_t max_buffered_bytes = int64_t{1} << 20;
  absl::Duration write_timeout = absl::Seconds(30);
};

template <typename Message>
class StreamReactor final : public grpc::ServerWriteReactor<Message> {
 public:
  StreamReactor(grpc::CallbackServerContext* context, StreamLimits limits)
      : context_(context), limits_(limits) {}

  void Watch(std::shared_ptr<WorkItem> item) { link_.Watch(std::move(item)); }
  // Queues a message; messages go out in order, one write at a time. A
  // stream whose client does not read stops here: its work item ends with
  // stalled(), the call is cancelled, and later messages are dropped. Send
  // and End come from the work item's callbacks, one at a time, and End
  // comes last: the reactor may be deleted once it has run.
  void Send(Message message) {
    absl::Status stalled;
    Action action = kNothing;
    {
      absl::MutexLock lock(&mu_);
      if (ending_ || !stalled_.ok()) return;
      const int64_t bytes = static_cast<int64_t>(message.ByteSizeLong());
      const absl::Time now = absl::Now();
      if (writing_ && now - write_started_ > limits_.write_timeout) {
        stalled = pipelines::WithReason(
            absl::ResourceExhaustedError(absl::StrCat(
                "the client read nothing of the stream for ",
                absl::FormatDuration(now - write_started_), " (the server's limit is ",
                absl::FormatDuration(limits_.write_timeout), ")")),
            "STREAM_NOT_READ");
      } else if (buffered_bytes_ > 0 &&
                 buffered_bytes_ + bytes > limits_.max_buffered_bytes) {
        stalled = pipelines::WithReason(
            absl::ResourceExhaustedError(absl::StrCat(
                "the client did not read the stream: ", buffered_bytes_ + bytes,
                " bytes would wait unsent (the server's limit is ",
                limits_.max_buffered_bytes, ")")),
            "STREAM_NOT_READ");
      }
      if (stalled.ok()) {
        buffered_bytes_ += bytes;
        pending_.push_back(std::move(message));
        action = NextAction();
      } else {
        stalled_ = stalled;
        pending_.clear();
      }
    }
    if (!stalled.ok()) {
      // Stop the computation with this reason, and free the stream now: the
      // pending write would otherwise hold it until the client goes away.
      // (No Finish can happen before End, so the reactor outlives this.)
      link_.Abandon(stalled);
      context_->TryCancel();
      return;
    }
    Run(action);
  }
  // Why the stream stopped early, or OK; the work ends the stream with it.
  absl::Status stalled() {
    absl::MutexLock lock(&mu_);
    return stalled_;
  }
  // Ends the stream after the queued messages (or at once on error). The
  // work's last call: it gives up the work's hold on the reactor.
  void End(grpc::Status status) {
    Action action;
    {
      absl::MutexLock lock(&mu_);
      if (ending_) return;
      ending_ = true;
      status_ = std::move(status);
      if (!status_.ok()) pending_.clear();
      action = NextAction();
    }
    Run(action);
    Unref();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) link_.Cancel();  // the client is gone: stop generating for it
    Action action;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      buffered_bytes_ -= current_bytes_;
      current_bytes_ = 0;
      if (!ok) pending_.clear();
      action = NextAction();
    }
    Run(action);
  }
  void OnCancel() override { link_.Cancel(); }
  void OnDone() override { Unref(); }

 private:
  // gRPC (until OnDone) and the work (until End) both hold the reactor; the
  // last to let go deletes it, so neither can outlive it.
  void Unref() {
    if (holders_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  enum Action { kNothing, kWrite, kFinish };

  // What to start next, decided in the same critical section as the change
  // that calls for it: once the lock is released, another thread may finish
  // the call, and OnDone deletes the reactor.
  Action NextAction() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return kNothing;
    if (!pending_.empty()) {
      current_ = std::move(pending_.front());
      pending_.pop_front();
      current_bytes_ = static_cast<int64_t>(current_.ByteSizeLong());
      write_started_ = absl::Now();
      writing_ = true;
      return kWrite;
    }
    if (ending_) {
      finished_ = true;
      return kFinish;
    }
    return kNothing;
  }
  // Starts the write or the finish outside the lock (gRPC may run the
  // reaction on this thread). The reactor stays alive through StartWrite (no
  // Finish while a write is out), but not after Finish.
  void Run(Action action) {
    if (action == kWrite) this->StartWrite(&current_);
    if (action == kFinish) this->Finish(status_);
  }

  std::atomic<int> holders_{2};
  grpc::CallbackServerContext* const context_;  // valid until OnDone
  const StreamLimits limits_;
  CancellationLink link_;
  absl::Mutex mu_;
  std::deque<Message> pending_ ABSL_GUARDED_BY(mu_);
  // Bytes of pending_ and of the write in flight.
  int64_t buffered_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t current_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time write_started_ ABSL_GUARDED_BY(mu_);
  absl::Status stalled_ ABSL_GUARDED_BY(mu_);
  Message current_;
  grpc::Status status_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_REACTORS_H_
