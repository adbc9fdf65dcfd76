// One model's scheduler: a bounded priority queue and a worker thread that
// batches. It knows nothing about models; a Backend runs the batches:
//  - dynamic batching (classifiers): up to max_batch_size items, waiting at
//    most max_queue_delay for the batch to fill, run to the end together;
//  - continuous batching (generation): items join the running batch at every
//    step and leave when finished, under a cap on tokens in flight, so one
//    long request never holds short ones hostage.
// Expired and cancelled items are dropped before compute (queued) or at the
// next step boundary (running); every item is completed exactly once.
#ifndef HEED_SERVER_SCHEDULER_SCHEDULER_H_
#define HEED_SERVER_SCHEDULER_SCHEDULER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "server/scheduler/batching_options.h"
#include "server/scheduler/request_queue.h"
#include "server/scheduler/work_item.h"

namespace heed::server {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual bool continuous() const = 0;
  // Dynamic batching: computes and completes every item of the batch.
  virtual void RunBatch(const std::vector<WorkItem*>& batch) { (void)batch; }
  // Continuous batching: Start prepares an item (e.g. encodes its input); an
  // error completes it. Step advances all active items by one step. Done
  // items are handed to Finish, which completes them.
  virtual absl::Status Start(WorkItem& item) {
    (void)item;
    return absl::OkStatus();
  }
  virtual absl::Status Step(const std::vector<WorkItem*>& active) {
    (void)active;
    return absl::OkStatus();
  }
  virtual bool Done(WorkItem& item) {
    (void)item;
    return true;
  }
  virtual void Finish(WorkItem& item) { item.Complete(absl::OkStatus()); }
};

// Called from the worker thread; lets the server export metrics without the
// scheduler knowing Prometheus.
struct SchedulerObserver {
  std::function<void(int batch_size, absl::Duration compute)> on_batch;
  // Continuous batching: the backend's Start of one item (for generation, the
  // encoder pass of its source).
  std::function<void(absl::Duration compute)> on_start;
  std::function<void(int queued, int running)> on_load;
};

class Scheduler {
 public:
  Scheduler(std::string name, std::unique_ptr<Backend> backend, BatchingOptions options,
            SchedulerObserver observer = {});
  ~Scheduler();  // shuts down without grace
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // RESOURCE_EXHAUSTED at once when the queue is full; UNAVAILABLE after
  // Shutdown. On error the item is not completed: the caller answers.
  absl::Status Submit(std::shared_ptr<WorkItem> item);

  // Stops accepting; lets queued and running items finish until `grace`
  // passes, then completes the rest with UNAVAILABLE; joins the worker.
  void Shutdown(absl::Duration grace);
  // The first half of Shutdown, without waiting: stop accepting now and give
  // up on unfinished items once `grace` has passed.
  void BeginShutdown(absl::Duration grace);

  const std::string& name() const { return name_; }
  int queued() const { return queue_.size(); }
  int running() const { return running_.load(); }

 private:
  void Loop();
  void RunDynamic();
  void RunContinuous();
  // Completes cancelled and expired running items; returns the others.
  std::vector<std::shared_ptr<WorkItem>> DropDead(
      std::vector<std::shared_ptr<WorkItem>> items);
  void Report();

  const std::string name_;
  std::unique_ptr<Backend> backend_;
  const BatchingOptions options_;
  SchedulerObserver observer_;
  RequestQueue queue_;
  std::atomic<int> running_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> give_up_at_ns_{INT64_MAX};  // after Shutdown: end of grace
  std::thread worker_;
};

}  // namespace heed::server

#endif  // HEED_SERVER_SCHEDULER_SCHEDULER_H_
