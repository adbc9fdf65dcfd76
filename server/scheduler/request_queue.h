// A bounded priority queue of work items: higher priority first, arrival order
// within a priority, full queues refuse at once. Items whose deadline passed
// or whose client cancelled are completed here, before any compute, and
// always outside the queue's lock (completing answers the call, which must not
// hold up other callers).
#ifndef HEED_SERVER_SCHEDULER_REQUEST_QUEUE_H_
#define HEED_SERVER_SCHEDULER_REQUEST_QUEUE_H_

#include <climits>
#include <deque>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/scheduler/work_item.h"

namespace heed::server {

class RequestQueue {
 public:
  explicit RequestQueue(int capacity) : capacity_(capacity) {}

  // RESOURCE_EXHAUSTED when full, UNAVAILABLE once closed; the item is not
  // completed in that case (the caller answers with the returned status).
  absl::Status Push(std::shared_ptr<WorkItem> item);

  // Waits until an item is queued, `timeout` passes or the queue closes, then
  // takes up to `max_items` whose sizes sum to at most `max_tokens` (always at
  // least one item), best first. With `fill_delay`, keeps waiting until that
  // much is there or the oldest item has waited `fill_delay`.
  std::vector<std::shared_ptr<WorkItem>> Pop(
      int max_items, absl::Duration timeout,
      absl::Duration fill_delay = absl::ZeroDuration(), int max_tokens = INT_MAX);

  // Refuses new items; Pop returns what is left, then nothing.
  void Close();
  // Completes everything still queued with `status`.
  void Drain(const absl::Status& status);

  int size() const;
  bool closed() const;

 private:
  // Moves expired and cancelled items to `dead` with the status each gets.
  void TakeDeadLocked(
      std::vector<std::pair<std::shared_ptr<WorkItem>, absl::Status>>* dead)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int SizeLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the items at the head make a full batch (by count or tokens).
  bool FullLocked(int max_items, int max_tokens) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int capacity_;
  mutable absl::Mutex mu_;
  std::map<int, std::deque<std::shared_ptr<WorkItem>>, std::greater<int>> by_priority_
      ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace heed::server

#endif  // HEED_SERVER_SCHEDULER_REQUEST_QUEUE_H_
