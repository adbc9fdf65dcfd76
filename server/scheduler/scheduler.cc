#include "server/scheduler/scheduler.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "core/pipelines/status_details.h"

namespace heed::server {
namespace {

constexpr absl::Duration kIdleWait = absl::Milliseconds(50);
constexpr int kMinServiceSamples = 3;

}  // namespace

Scheduler::Scheduler(std::string name, BatchingOptions options,
                     SchedulerObserver observer)
    : name_(std::move(name)),
      options_(options),
      observer_(std::move(observer)),
      queue_(options.max_queue_size) {}

Scheduler::Scheduler(std::string name, std::unique_ptr<BatchRunner> runner,
                     BatchingOptions options, SchedulerObserver observer)
    : Scheduler(std::move(name), options, std::move(observer)) {
  batch_runner_ = std::move(runner);
  worker_ = std::thread([this] {
    batch_runner_->OnWorkerStart();
    RunDynamic();
  });
}

Scheduler::Scheduler(std::string name, std::unique_ptr<StepRunner> runner,
                     BatchingOptions options, SchedulerObserver observer)
    : Scheduler(std::move(name), options, std::move(observer)) {
  step_runner_ = std::move(runner);
  worker_ = std::thread([this] {
    step_runner_->OnWorkerStart();
    RunContinuous();
  });
}

Scheduler::~Scheduler() { Shutdown(absl::ZeroDuration()); }

absl::Status Scheduler::Submit(std::shared_ptr<WorkItem> item) {
  const absl::Duration wait = ExpectedWait();
  const absl::Duration max_wait = options_.max_queue_wait;
  if (max_wait > absl::ZeroDuration() && wait > max_wait) {
    absl::Status status = absl::ResourceExhaustedError(absl::StrFormat(
        "the model's queue holds about %.0f ms of work, over its limit of %.0f ms "
        "(--max_queue_wait); retry later or on another replica",
        absl::ToDoubleMilliseconds(wait), absl::ToDoubleMilliseconds(max_wait)));
    // By then the queue is back within its limit.
    return pipelines::WithRetryDelay(
        pipelines::WithReason(std::move(status), "QUEUE_FULL"), wait - max_wait);
  }
  if (item->deadline != absl::InfiniteFuture()) {
    const absl::Duration left = item->deadline - absl::Now();
    // (An item already past its deadline is left to the queue, which ends it
    // DEADLINE_EXCEEDED.)
    if (wait > absl::ZeroDuration() && left > absl::ZeroDuration() && wait > left) {
      absl::Status status = absl::ResourceExhaustedError(absl::StrFormat(
          "the expected wait in the model's queue (%.0f ms) is longer than the "
          "request's deadline allows (%.0f ms); retry later or on another replica",
          absl::ToDoubleMilliseconds(wait),
          std::max(0.0, absl::ToDoubleMilliseconds(left))));
      // By then the queue has moved up by the difference.
      return pipelines::WithRetryDelay(
          pipelines::WithReason(std::move(status), "DEADLINE_TOO_SHORT"), wait - left);
    }
  }
  absl::Status status = queue_.Push(std::move(item));
  Report();
  if (status.code() == absl::StatusCode::kResourceExhausted &&
      service_samples_.load() >= kMinServiceSamples) {
    // A full queue has room again once a batch (or a step) has left it.
    status = pipelines::WithRetryDelay(std::move(status),
                                       absl::Nanoseconds(service_ns_.load()));
  }
  return status;
}

absl::Duration Scheduler::ExpectedWait() const {
  // Too few samples (a cold start, a first long request) would mislead.
  if (service_samples_.load() < kMinServiceSamples) return absl::ZeroDuration();
  const absl::Duration service = absl::Nanoseconds(service_ns_.load());
  const int queued = queue_.size();
  const int batch = std::max(1, options_.max_batch_size);
  if (batch_runner_ != nullptr) {
    // Whole batches ahead of the new item, plus the one it joins; the batch
    // running now is half done on average.
    const int batches_ahead = queued / batch;
    return service * batches_ahead +
           (running_.load() > 0 ? service / 2 : absl::ZeroDuration());
  }
  // Continuous batching: the item joins at the next step if there is room in
  // the running batch, else when enough running items finish.
  const int places_needed = running_.load() + queued + 1 - batch;
  if (places_needed <= 0) return absl::ZeroDuration();
  return service * ((places_needed + batch - 1) / batch);
}

void Scheduler::RecordServiceTime(absl::Duration d) {
  const int64_t sample = absl::ToInt64Nanoseconds(d);
  const int64_t old = service_ns_.load();
  // Exponential moving average, weight 1/4 for the newest sample.
  service_ns_.store(service_samples_.load() == 0 ? sample : old + (sample - old) / 4);
  service_samples_.fetch_add(1);
}

void Scheduler::BeginShutdown(absl::Duration grace) {
  if (!stopping_.exchange(true)) {
    give_up_at_ns_.store(absl::ToUnixNanos(absl::Now() + grace));
    queue_.Close();
  }
}

void Scheduler::Shutdown(absl::Duration grace) {
  BeginShutdown(grace);
  {
    absl::MutexLock lock(&join_mu_);
    if (worker_.joinable()) worker_.join();
  }
  queue_.Drain(pipelines::WithReason(
      absl::UnavailableError("the server shut down before the request ran"),
      "SHUTTING_DOWN"));
}

int Scheduler::Capacity() const {
  const int hard = options_.max_queue_size;
  if (options_.max_queue_wait <= absl::ZeroDuration() ||
      service_samples_.load() < kMinServiceSamples) {
    return hard;
  }
  const int64_t service_ns = std::max<int64_t>(1, service_ns_.load());
  const int64_t rounds = absl::ToInt64Nanoseconds(options_.max_queue_wait) / service_ns;
  const int64_t batch = std::max(1, options_.max_batch_size);
  // The inverse of ExpectedWait: `rounds` batches (or steps' worth of
  // requests) wait within the limit; continuous batching also fills the
  // running batch first.
  const int64_t fits = batch * rounds + (step_runner_ != nullptr ? batch : 0);
  return static_cast<int>(std::clamp<int64_t>(fits, 1, hard));
}

void Scheduler::Report() {
  if (observer_.on_load) observer_.on_load(queue_.size(), running_.load(), Capacity());
}

std::vector<std::shared_ptr<WorkItem>> Scheduler::DropDead(
    std::vector<std::shared_ptr<WorkItem>> items) {
  const absl::Time now = absl::Now();
  const bool give_up =
      stopping_.load() && absl::ToUnixNanos(now) >= give_up_at_ns_.load();
  std::vector<std::shared_ptr<WorkItem>> alive;
  for (auto& item : items) {
    if (absl::Status stop = item->StopStatus(now, "during computation"); !stop.ok()) {
      item->Complete(std::move(stop));
    } else if (give_up) {
      item->Complete(pipelines::WithReason(
          absl::UnavailableError("the server shut down before the request finished"),
          "SHUTTING_DOWN"));
    } else {
      alive.push_back(std::move(item));
    }
  }
  return alive;
}

void Scheduler::RunDynamic() {
  while (true) {
    std::vector<std::shared_ptr<WorkItem>> batch =
        DropDead(queue_.Pop(options_.max_batch_size, kIdleWait, options_.max_queue_delay,
                            options_.max_batch_tokens));
    if (batch.empty()) {
      if (queue_.closed() && queue_.size() == 0) return;
      continue;
    }
    // Similar lengths together keep the batch's work even.
    std::stable_sort(batch.begin(), batch.end(),
                     [](const auto& a, const auto& b) { return a->size < b->size; });
    std::vector<WorkItem*> items;
    const absl::Time start = absl::Now();
    for (auto& item : batch) {
      item->started_at = start;
      items.push_back(item.get());
    }
    running_ = static_cast<int>(items.size());
    Report();
    batch_runner_->RunBatch(items);
    RecordServiceTime(absl::Now() - start);
    if (observer_.on_batch)
      observer_.on_batch(static_cast<int>(items.size()), absl::Now() - start);
    for (auto& item : batch) {
      if (!item->completed())
        item->Complete(absl::InternalError("the backend left a request"));
    }
    running_ = 0;
    Report();
  }
}

void Scheduler::RunContinuous() {
  std::vector<std::shared_ptr<WorkItem>> active;
  int tokens_in_flight = 0;
  while (true) {
    // Admit new items at this step boundary while there is room.
    if (static_cast<int>(active.size()) < options_.max_batch_size &&
        tokens_in_flight < options_.max_tokens_in_flight) {
      const absl::Duration wait = active.empty() ? kIdleWait : absl::ZeroDuration();
      std::vector<std::shared_ptr<WorkItem>> joining =
          DropDead(queue_.Pop(options_.max_batch_size - active.size(), wait));
      if (!joining.empty()) {
        std::vector<WorkItem*> items;
        const absl::Time start = absl::Now();
        for (auto& item : joining) {
          item->started_at = start;
          items.push_back(item.get());
        }
        const std::vector<absl::Status> started = step_runner_->Start(items);
        if (observer_.on_start) observer_.on_start(absl::Now() - start);
        for (size_t i = 0; i < joining.size(); ++i) {
          if (!started[i].ok()) {
            joining[i]->Complete(started[i]);
            continue;
          }
          tokens_in_flight += joining[i]->size;
          active.push_back(std::move(joining[i]));
        }
      }
    }
    active = DropDead(std::move(active));
    tokens_in_flight = 0;
    for (const auto& item : active) tokens_in_flight += item->size;
    running_ = static_cast<int>(active.size());
    Report();
    if (active.empty()) {
      if (queue_.closed() && queue_.size() == 0) return;
      continue;
    }
    std::vector<WorkItem*> items;
    for (auto& item : active) items.push_back(item.get());
    const absl::Time start = absl::Now();
    if (absl::Status s = step_runner_->Step(items); !s.ok()) {
      for (auto& item : active) item->Complete(s);
      active.clear();
      continue;
    }
    if (observer_.on_batch)
      observer_.on_batch(static_cast<int>(items.size()), absl::Now() - start);
    std::vector<std::shared_ptr<WorkItem>> still;
    for (auto& item : active) {
      if (step_runner_->Done(*item)) {
        step_runner_->Finish(*item);
        RecordServiceTime(absl::Now() - item->started_at);
      } else {
        still.push_back(std::move(item));
      }
    }
    active = std::move(still);
  }
}

}  // namespace heed::server
