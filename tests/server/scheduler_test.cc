// The scheduler with a fake model that sleeps and echoes: batching, fairness,
// deadlines, cancellation, priorities, back-pressure and shutdown, with every
// request answered exactly once.
#include "server/scheduler/scheduler.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/pipelines/status_details.h"
#include "gtest/gtest.h"

namespace heed::server {
namespace {

class FakeItem : public WorkItem {
 public:
  explicit FakeItem(int steps) : steps_needed(steps) { size = steps; }
  int steps_needed;
  int steps_done = 0;
  bool started = false;
  absl::Notification done;
  absl::Status status;
  std::atomic<int> completions{0};
  absl::Time finished_at;

 protected:
  void OnComplete(absl::Status s) override {
    status = std::move(s);
    finished_at = absl::Now();
    ++completions;
    done.Notify();
  }
};

// Dynamic batching: records batch sizes (items and tokens), sleeps, echoes.
class FakeBatchRunner : public BatchRunner {
 public:
  explicit FakeBatchRunner(absl::Duration step = absl::Milliseconds(1)) : step_(step) {}
  void RunBatch(const std::vector<WorkItem*>& batch) override {
    {
      absl::MutexLock lock(&mu);
      batch_sizes.push_back(static_cast<int>(batch.size()));
      int tokens = 0;
      for (WorkItem* item : batch) tokens += item->size;
      batch_tokens.push_back(tokens);
    }
    absl::SleepFor(step_);
    for (WorkItem* item : batch) item->Complete(absl::OkStatus());
  }
  absl::Mutex mu;
  std::vector<int> batch_sizes;
  std::vector<int> batch_tokens;

 private:
  absl::Duration step_;
};

// Continuous batching: an item needs `steps_needed` steps.
class FakeStepRunner : public StepRunner {
 public:
  explicit FakeStepRunner(absl::Duration step = absl::Milliseconds(1)) : step_(step) {}
  std::vector<absl::Status> Start(std::span<WorkItem* const> items) override {
    for (WorkItem* item : items) static_cast<FakeItem*>(item)->started = true;
    return std::vector<absl::Status>(items.size());
  }
  absl::Status Step(const std::vector<WorkItem*>& active) override {
    absl::SleepFor(step_);
    for (WorkItem* item : active) ++static_cast<FakeItem*>(item)->steps_done;
    return absl::OkStatus();
  }
  bool Done(WorkItem& item) override {
    auto& fake = static_cast<FakeItem&>(item);
    return fake.steps_done >= fake.steps_needed;
  }
  void Finish(WorkItem& item) override { item.Complete(absl::OkStatus()); }

 private:
  absl::Duration step_;
};

// Without a latency bound on the queue unless a test sets one: the tests
// below queue work for seconds on purpose.
BatchingOptions Options(int max_batch = 8, int queue = 64) {
  BatchingOptions o;
  o.max_batch_size = max_batch;
  o.max_queue_size = queue;
  o.max_queue_delay = absl::Milliseconds(20);
  o.max_queue_wait = absl::ZeroDuration();
  return o;
}

TEST(SchedulerTest, EveryRequestIsAnsweredExactlyOnce) {
  Scheduler scheduler("fake", std::make_unique<FakeStepRunner>(), Options(16, 64));
  std::vector<std::shared_ptr<FakeItem>> items;
  absl::Mutex mu;
  std::atomic<int> rejected{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(c);
      for (int i = 0; i < 100; ++i) {
        auto item = std::make_shared<FakeItem>(1 + rng() % 6);
        if (scheduler.Submit(item).ok()) {
          absl::MutexLock lock(&mu);
          items.push_back(item);
        } else {
          ++rejected;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  for (auto& item : items) {
    ASSERT_TRUE(item->done.WaitForNotificationWithTimeout(absl::Seconds(60)));
    EXPECT_TRUE(item->status.ok()) << item->status;
  }
  absl::SleepFor(absl::Milliseconds(20));
  for (auto& item : items) EXPECT_EQ(item->completions.load(), 1);
  EXPECT_EQ(static_cast<int>(items.size()) + rejected.load(), 800);
}

TEST(SchedulerTest, ShortRequestsOvertakeALongOne) {
  Scheduler scheduler("fake", std::make_unique<FakeStepRunner>(), Options());
  auto long_item = std::make_shared<FakeItem>(200);
  ASSERT_TRUE(scheduler.Submit(long_item).ok());
  absl::SleepFor(absl::Milliseconds(20));
  auto short_item = std::make_shared<FakeItem>(3);
  ASSERT_TRUE(scheduler.Submit(short_item).ok());
  ASSERT_TRUE(short_item->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE(long_item->done.HasBeenNotified());  // joined the running batch
  ASSERT_TRUE(long_item->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST(SchedulerTest, DeadlinesBeforeAndDuringCompute) {
  Scheduler scheduler("fake", std::make_unique<FakeStepRunner>(), Options());
  auto expired = std::make_shared<FakeItem>(1);
  expired->deadline = absl::Now() - absl::Seconds(1);
  ASSERT_TRUE(scheduler.Submit(expired).ok());
  ASSERT_TRUE(expired->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(expired->status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(expired->started);  // dropped before compute

  auto slow = std::make_shared<FakeItem>(10000);
  slow->deadline = absl::Now() + absl::Milliseconds(50);
  ASSERT_TRUE(scheduler.Submit(slow).ok());
  ASSERT_TRUE(slow->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(slow->status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(slow->started);
  EXPECT_LT(slow->steps_done, 10000);
}

TEST(SchedulerTest, CancellationStopsAtTheNextStep) {
  Scheduler scheduler("fake", std::make_unique<FakeStepRunner>(), Options());
  auto item = std::make_shared<FakeItem>(100000);
  ASSERT_TRUE(scheduler.Submit(item).ok());
  absl::SleepFor(absl::Milliseconds(30));
  item->Cancel();
  ASSERT_TRUE(item->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(item->status.code(), absl::StatusCode::kCancelled);
  const int steps = item->steps_done;
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(item->steps_done, steps);  // no longer stepped
}

// A runner that holds its first batch until released.
class BlockingRunner : public BatchRunner {
 public:
  void RunBatch(const std::vector<WorkItem*>& batch) override {
    release.WaitForNotification();
    for (WorkItem* item : batch) item->Complete(absl::OkStatus());
  }
  absl::Notification release;
};

TEST(SchedulerTest, FullQueueRefusesAtOnce) {
  // The worker is stuck on its first batch and the queue holds two: further
  // submissions are refused while nothing moves, so the refusal cannot have
  // waited for the queue to drain.
  auto backend = std::make_unique<BlockingRunner>();
  BlockingRunner* blocking = backend.get();
  Scheduler scheduler("fake", std::move(backend), Options(1, 2));
  std::vector<std::shared_ptr<FakeItem>> accepted;
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    auto item = std::make_shared<FakeItem>(1);
    absl::Status status = scheduler.Submit(item);
    if (status.ok()) {
      accepted.push_back(item);
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
      ++refused;
    }
  }
  EXPECT_GE(refused, 7);  // one running (or about to), two queued
  for (auto& item : accepted) EXPECT_FALSE(item->done.HasBeenNotified());
  blocking->release.Notify();
  for (auto& item : accepted) {
    ASSERT_TRUE(item->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    EXPECT_TRUE(item->status.ok());
  }
}

TEST(SchedulerTest, HigherPriorityRunsFirst) {
  auto backend = std::make_unique<FakeBatchRunner>(absl::Milliseconds(100));
  Scheduler scheduler("fake", std::move(backend), Options(1, 64));
  auto blocker = std::make_shared<FakeItem>(1);
  ASSERT_TRUE(scheduler.Submit(blocker).ok());
  absl::SleepFor(absl::Milliseconds(30));  // the worker is busy with it
  auto low = std::make_shared<FakeItem>(1);
  low->priority = 1;
  auto high = std::make_shared<FakeItem>(1);
  high->priority = 3;
  ASSERT_TRUE(scheduler.Submit(low).ok());
  ASSERT_TRUE(scheduler.Submit(high).ok());
  ASSERT_TRUE(low->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  ASSERT_TRUE(high->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_LT(high->finished_at, low->finished_at);
}

TEST(SchedulerTest, DynamicBatchingGroupsRequests) {
  auto backend = std::make_unique<FakeBatchRunner>();
  FakeBatchRunner* fake = backend.get();
  Scheduler scheduler("fake", std::move(backend), Options(4, 64));
  std::vector<std::shared_ptr<FakeItem>> items;
  for (int i = 0; i < 10; ++i) {
    items.push_back(std::make_shared<FakeItem>(1));
    ASSERT_TRUE(scheduler.Submit(items.back()).ok());
  }
  for (auto& item : items)
    ASSERT_TRUE(item->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  absl::MutexLock lock(&fake->mu);
  EXPECT_LE(*std::max_element(fake->batch_sizes.begin(), fake->batch_sizes.end()), 4);
  EXPECT_EQ(*std::max_element(fake->batch_sizes.begin(), fake->batch_sizes.end()), 4);
}

TEST(SchedulerTest, ShutdownFinishesWithinGraceThenGivesUp) {
  auto scheduler =
      std::make_unique<Scheduler>("fake", std::make_unique<FakeStepRunner>(), Options());
  auto quick = std::make_shared<FakeItem>(5);
  auto endless = std::make_shared<FakeItem>(1 << 30);
  ASSERT_TRUE(scheduler->Submit(quick).ok());
  ASSERT_TRUE(scheduler->Submit(endless).ok());
  absl::SleepFor(absl::Milliseconds(5));
  scheduler->Shutdown(absl::Milliseconds(200));
  EXPECT_TRUE(quick->status.ok());
  EXPECT_EQ(endless->status.code(), absl::StatusCode::kUnavailable);
  auto late = std::make_shared<FakeItem>(1);
  EXPECT_EQ(scheduler->Submit(late).code(), absl::StatusCode::kUnavailable);
}

// The model loader (after a failed load) and main's teardown both shut the
// schedulers down; two joins of one worker threw std::system_error.
TEST(SchedulerTest, ShutdownFromSeveralThreadsAtOnce) {
  for (int round = 0; round < 50; ++round) {
    Scheduler scheduler("fake", std::make_unique<FakeStepRunner>(), Options());
    auto endless = std::make_shared<FakeItem>(1 << 30);
    ASSERT_TRUE(scheduler.Submit(endless).ok());
    std::vector<std::thread> callers;
    for (int i = 0; i < 4; ++i) {
      callers.emplace_back([&scheduler] { scheduler.Shutdown(absl::ZeroDuration()); });
    }
    for (std::thread& t : callers) t.join();
    EXPECT_EQ(endless->status.code(), absl::StatusCode::kUnavailable);
  }
}

TEST(SchedulerTest, DynamicBatchesStayWithinTheTokenBudget) {
  auto runner = std::make_unique<FakeBatchRunner>();
  FakeBatchRunner* fake = runner.get();
  BatchingOptions options = Options(32, 64);
  options.max_batch_tokens = 100;
  Scheduler scheduler("fake", std::move(runner), options);
  std::vector<std::shared_ptr<FakeItem>> items;
  for (int i = 0; i < 20; ++i) {
    items.push_back(std::make_shared<FakeItem>(30));  // 30 tokens each
    ASSERT_TRUE(scheduler.Submit(items.back()).ok());
  }
  auto huge = std::make_shared<FakeItem>(500);  // over the budget alone: runs alone
  ASSERT_TRUE(scheduler.Submit(huge).ok());
  for (auto& item : items) {
    ASSERT_TRUE(item->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  }
  ASSERT_TRUE(huge->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  absl::MutexLock lock(&fake->mu);
  for (size_t i = 0; i < fake->batch_tokens.size(); ++i) {
    if (fake->batch_sizes[i] > 1) {
      EXPECT_LE(fake->batch_tokens[i], 100);
    }
  }
  EXPECT_NE(std::find(fake->batch_tokens.begin(), fake->batch_tokens.end(), 500),
            fake->batch_tokens.end());
  EXPECT_NE(std::find(fake->batch_sizes.begin(), fake->batch_sizes.end(), 3),
            fake->batch_sizes.end());  // the budget, not the count, bounded batches
}

// An item whose completion calls back into the queue (as a gRPC reactor's
// answer may): the queue completes dropped items outside its lock, or this
// would deadlock.
class ReentrantItem : public WorkItem {
 public:
  explicit ReentrantItem(RequestQueue* queue) : queue_(queue) {}
  absl::Notification done;
  absl::StatusCode code = absl::StatusCode::kOk;
  int queue_size_seen = -1;

 protected:
  void OnComplete(absl::Status status) override {
    code = status.code();
    queue_size_seen = queue_->size();
    done.Notify();
  }

 private:
  RequestQueue* queue_;
};

TEST(RequestQueueTest, CompletesOutsideItsLock) {
  RequestQueue queue(8);
  auto expired = std::make_shared<ReentrantItem>(&queue);
  ASSERT_TRUE(queue.Push(expired).ok());
  expired->deadline = absl::Now() - absl::Seconds(1);
  auto cancelled = std::make_shared<ReentrantItem>(&queue);
  ASSERT_TRUE(queue.Push(cancelled).ok());
  cancelled->Cancel();
  std::thread popper([&] { queue.Pop(4, absl::Milliseconds(10)); });
  popper.join();
  ASSERT_TRUE(expired->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  ASSERT_TRUE(cancelled->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(expired->code, absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(cancelled->code, absl::StatusCode::kCancelled);
  EXPECT_GE(expired->queue_size_seen, 0);  // it could look into the queue

  auto drained = std::make_shared<ReentrantItem>(&queue);
  ASSERT_TRUE(queue.Push(drained).ok());
  queue.Drain(absl::UnavailableError("stopping"));
  ASSERT_TRUE(drained->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(drained->code, absl::StatusCode::kUnavailable);
}

TEST(SchedulerTest, ADeadlineThatPassedIsNotCountedAsACancellation) {
  // gRPC cancels a call when its deadline passes; the item then carries both.
  Scheduler scheduler("fake", std::make_unique<FakeStepRunner>(), Options());
  auto item = std::make_shared<FakeItem>(100000);
  item->deadline = absl::Now() + absl::Milliseconds(30);
  ASSERT_TRUE(scheduler.Submit(item).ok());
  absl::SleepFor(absl::Milliseconds(40));
  item->Cancel();
  ASSERT_TRUE(item->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(item->status.code(), absl::StatusCode::kDeadlineExceeded);

  auto queued = std::make_shared<FakeItem>(1);
  RequestQueue queue(4);
  ASSERT_TRUE(queue.Push(queued).ok());
  queued->deadline = absl::Now() - absl::Milliseconds(1);
  queued->Cancel();
  EXPECT_TRUE(queue.Pop(4, absl::Milliseconds(1)).empty());
  ASSERT_TRUE(queued->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(queued->status.code(), absl::StatusCode::kDeadlineExceeded);
}
TEST(SchedulerTest, ARequestThatCannotMeetItsDeadlineIsRefusedAtOnce) {
  // One item per 100 ms batch: with ten queued, a new item waits about a second.
  Scheduler scheduler("fake", std::make_unique<FakeBatchRunner>(absl::Milliseconds(100)),
                      Options(1, 64));
  // Four served items: the scheduler records a service time after a batch's
  // items are answered, so the fourth answer proves three were recorded.
  std::vector<std::shared_ptr<FakeItem>> warm;
  for (int i = 0; i < 4; ++i) {
    warm.push_back(std::make_shared<FakeItem>(1));
    ASSERT_TRUE(scheduler.Submit(warm.back()).ok());
  }
  for (auto& item : warm) {
    ASSERT_TRUE(item->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  }
  std::vector<std::shared_ptr<FakeItem>> queued;
  for (int i = 0; i < 10; ++i) {
    queued.push_back(std::make_shared<FakeItem>(1));
    ASSERT_TRUE(scheduler.Submit(queued.back()).ok());
  }
  EXPECT_GT(scheduler.ExpectedWait(), absl::Milliseconds(500));
  auto hurried = std::make_shared<FakeItem>(1);
  hurried->deadline = absl::Now() + absl::Milliseconds(200);
  absl::Status refused = scheduler.Submit(hurried);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("expected wait"), absl::string_view::npos) << refused;
  EXPECT_EQ(pipelines::DetailsOf(refused).reason, "DEADLINE_TOO_SHORT");
  EXPECT_GT(pipelines::DetailsOf(refused).retry_delay, absl::Milliseconds(300));
  auto patient = std::make_shared<FakeItem>(1);
  patient->deadline = absl::Now() + absl::Seconds(30);
  EXPECT_TRUE(scheduler.Submit(patient).ok());
  ASSERT_TRUE(patient->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(patient->status.ok());
}

TEST(SchedulerTest, TheQueueHoldsAtMostMaxQueueWaitOfWork) {
  // One item per 100 ms batch and a 450 ms bound: about four queued items fit,
  // far below max_queue_size.
  BatchingOptions options = Options(1, 1000);
  options.max_queue_wait = absl::Milliseconds(450);
  Scheduler scheduler("fake", std::make_unique<FakeBatchRunner>(absl::Milliseconds(100)),
                      options);
  EXPECT_EQ(scheduler.Capacity(), 1000);  // nothing measured yet
  std::vector<std::shared_ptr<FakeItem>> items;
  for (int i = 0; i < 4; ++i) {
    items.push_back(std::make_shared<FakeItem>(1));
    ASSERT_TRUE(scheduler.Submit(items.back()).ok());
  }
  for (auto& item : items) {
    ASSERT_TRUE(item->done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  }
  // Measured now. Capacity is an estimate around 450 / 100 batches of one.
  EXPECT_GE(scheduler.Capacity(), 3);
  EXPECT_LE(scheduler.Capacity(), 5);
  int admitted = 0;
  absl::Status refused;
  for (int i = 0; i < 50 && refused.ok(); ++i) {
    auto item = std::make_shared<FakeItem>(1);
    refused = scheduler.Submit(item);
    if (refused.ok()) {
      ++admitted;
      items.push_back(std::move(item));
    }
  }
  EXPECT_GE(admitted, 3);
  EXPECT_LE(admitted, 7);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(pipelines::DetailsOf(refused).reason, "QUEUE_FULL");
  ASSERT_TRUE(pipelines::DetailsOf(refused).retry_delay.has_value());
  EXPECT_GT(*pipelines::DetailsOf(refused).retry_delay, absl::ZeroDuration());
  EXPECT_NE(refused.message().find("--max_queue_wait"), absl::string_view::npos);
  for (auto& item : items) {
    ASSERT_TRUE(item->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    EXPECT_TRUE(item->status.ok());
  }
}

}  // namespace
}  // namespace heed::server
