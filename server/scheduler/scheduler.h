// One model's scheduler: a bounded priority queue and a worker thread that
// batches. It knows nothing about models; a runner computes:
//  - dynamic batching (classifiers, a BatchRunner): up to max_batch_size
//    items and max_batch_tokens tokens, waiting at most max_queue_delay for
//    the batch to fill, run to the end together;
//  - continuous batching (generation, a StepRunner): items join the running
//    batch at every step and leave when finished, under a cap on tokens in
//    flight, so one long request never holds short ones hostage.
// Expired and cancelled items are dropped before compute (queued) or at the
// next step boundary (running); every item is completed exactly once.
#ifndef HEED_SERVER_SCHEDULER_SCHEDULER_H_
#define HEED_SERVER_SCHEDULER_SCHEDULER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/scheduler/batching_options.h"
#include "server/scheduler/request_queue.h"
#include "server/scheduler/work_item.h"

namespace heed::server {

// Runs the batches of a model with dynamic batching (classifiers).
class BatchRunner {
 public:
  virtual ~BatchRunner() = default;
  // Called once on the worker thread before any batch (e.g. to size the
  // thread's compute pool).
  virtual void OnWorkerStart() {}
  // Computes and completes every item of the batch.
  virtual void RunBatch(const std::vector<WorkItem*>& batch) = 0;
};

// Runs a model with continuous batching (generation): items join and leave
// the running batch at step boundaries.
class StepRunner {
 public:
  virtual ~StepRunner() = default;
  virtual void OnWorkerStart() {}
  // Prepares the items that join at a step boundary, all together (e.g.
  // encodes their inputs in one pass); returns one status per item, and an
  // error completes its item.
  virtual std::vector<absl::Status> Start(std::span<WorkItem* const> items) = 0;
  // Advances every active item by one step; an error completes them all.
  virtual absl::Status Step(const std::vector<WorkItem*>& active) = 0;
  virtual bool Done(WorkItem& item) = 0;
  // Completes a done item.
  virtual void Finish(WorkItem& item) = 0;
};

// Called from the worker thread; lets the server export metrics without the
// scheduler knowing Prometheus.
struct SchedulerObserver {
  std::function<void(int batch_size, absl::Duration compute)> on_batch;
  // Continuous batching: the backend's Start of the items that joined at a
  // step boundary (for generation, one encoder pass over their sources).
  std::function<void(absl::Duration compute)> on_start;
  // `capacity`: the queued requests admitted now (Capacity()).
  std::function<void(int queued, int running, int capacity)> on_load;
};

class Scheduler {
 public:
  Scheduler(std::string name, std::unique_ptr<BatchRunner> runner,
            BatchingOptions options, SchedulerObserver observer = {});
  Scheduler(std::string name, std::unique_ptr<StepRunner> runner, BatchingOptions options,
            SchedulerObserver observer = {});
  ~Scheduler();  // shuts down without grace
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // RESOURCE_EXHAUSTED at once when the queue is full (max_queue_size), when
  // the expected wait (from the recent service times and the queue's
  // contents) exceeds max_queue_wait, or when it would pass the item's
  // deadline; UNAVAILABLE after Shutdown. On error the item is not
  // completed: the caller answers.
  absl::Status Submit(std::shared_ptr<WorkItem> item);

  // The wait a new item can expect before it runs; zero until a few items
  // have been served.
  absl::Duration ExpectedWait() const;

  // About how many queued items fit within max_queue_wait at the measured
  // service time, at most max_queue_size (which it is until measured).
  int Capacity() const;

  // Stops accepting; lets queued and running items finish until `grace`
  // passes, then completes the rest with UNAVAILABLE; joins the worker.
  // Callable from several threads at once: each returns once the worker has
  // been joined.
  void Shutdown(absl::Duration grace);
  // The first half of Shutdown, without waiting: stop accepting now and give
  // up on unfinished items once `grace` has passed.
  void BeginShutdown(absl::Duration grace);

  const std::string& name() const { return name_; }
  int queued() const { return queue_.size(); }
  int running() const { return running_.load(); }

 private:
  Scheduler(std::string name, BatchingOptions options, SchedulerObserver observer);
  void RunDynamic();
  void RunContinuous();
  // Completes cancelled and expired running items; returns the others.
  std::vector<std::shared_ptr<WorkItem>> DropDead(
      std::vector<std::shared_ptr<WorkItem>> items);
  void Report();
  // Folds one service time (a batch, or one generation item) into the
  // moving average that ExpectedWait uses.
  void RecordServiceTime(absl::Duration d);

  const std::string name_;
  std::unique_ptr<BatchRunner> batch_runner_;  // one of the two
  std::unique_ptr<StepRunner> step_runner_;
  const BatchingOptions options_;
  SchedulerObserver observer_;
  RequestQueue queue_;
  std::atomic<int> running_{0};
  std::atomic<int64_t> service_ns_{0};  // moving average
  std::atomic<int> service_samples_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> give_up_at_ns_{INT64_MAX};  // after Shutdown: end of grace
  // Shutdown joins under join_mu_: two threads must not both join the worker.
  absl::Mutex join_mu_;
  std::thread worker_;
};

}  // namespace heed::server

#endif  // HEED_SERVER_SCHEDULER_SCHEDULER_H_
