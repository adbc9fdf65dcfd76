// What the scheduler moves around: one request, opaque to it except for
// what scheduling needs (priority, deadline, cancellation, size), and the one
// place where its end is reported.
#ifndef HEED_SERVER_SCHEDULER_WORK_ITEM_H_
#define HEED_SERVER_SCHEDULER_WORK_ITEM_H_

#include <atomic>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace heed::server {

class WorkItem {
 public:
  virtual ~WorkItem() = default;

  int priority = 0;  // higher first
  absl::Time deadline = absl::InfiniteFuture();
  absl::Time enqueued_at = absl::Now();
  absl::Time started_at = absl::InfiniteFuture();  // first batch
  int size = 1;  // tokens: length bucketing and the in-flight cap

  // Set from any thread (the client went away); observed at step boundaries.
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  // Cancels with a reason of the server's (e.g. a stream nobody reads): the
  // item ends with `why` instead of CANCELLED. The first reason stays.
  void Abandon(absl::Status why) {
    {
      absl::MutexLock lock(&abandon_mu_);
      if (abandoned_because_.ok()) abandoned_because_ = std::move(why);
    }
    Cancel();
  }

  // DEADLINE_EXCEEDED ("the deadline passed <where>") or CANCELLED when the
  // item should stop at `now`, else OK. The deadline comes first: gRPC also
  // cancels a call whose deadline passed, and that call must count as
  // DEADLINE_EXCEEDED, not CANCELLED.
  absl::Status StopStatus(absl::Time now, absl::string_view where) const {
    if (deadline <= now) {
      return absl::DeadlineExceededError(absl::StrCat("the deadline passed ", where));
    }
    if (!cancelled()) return absl::OkStatus();
    absl::MutexLock lock(&abandon_mu_);
    if (!abandoned_because_.ok()) return abandoned_because_;
    return absl::CancelledError("the client cancelled the request");
  }

  // Every item ends here exactly once, with OK or the status it deserves.
  void Complete(absl::Status status) {
    if (!completed_.exchange(true)) OnComplete(std::move(status));
  }
  bool completed() const { return completed_.load(); }

 protected:
  virtual void OnComplete(absl::Status status) = 0;

 private:
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> completed_{false};
  mutable absl::Mutex abandon_mu_;
  absl::Status abandoned_because_ ABSL_GUARDED_BY(abandon_mu_);
};

}  // namespace heed::server

#endif  // HEED_SERVER_SCHEDULER_WORK_ITEM_H_
