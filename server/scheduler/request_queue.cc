#include "server/scheduler/request_queue.h"

#include "absl/strings/str_cat.h"
#include "core/pipelines/status_details.h"

namespace heed::server {
namespace {

using DeadItems = std::vector<std::pair<std::shared_ptr<WorkItem>, absl::Status>>;

void CompleteAll(DeadItems& dead) {
  for (auto& [item, status] : dead) item->Complete(std::move(status));
}

}  // namespace

absl::Status RequestQueue::Push(std::shared_ptr<WorkItem> item) {
  DeadItems dead;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    TakeDeadLocked(&dead);
    if (closed_) {
      status = pipelines::WithReason(
          absl::UnavailableError("the server is shutting down"), "SHUTTING_DOWN");
    } else if (SizeLocked() >= capacity_) {
      status = pipelines::WithReason(
          absl::ResourceExhaustedError(absl::StrCat(
              "the model's queue is full (", capacity_, " requests); retry later")),
          "QUEUE_FULL");
    } else {
      item->enqueued_at = absl::Now();
      by_priority_[item->priority].push_back(std::move(item));
    }
  }
  CompleteAll(dead);
  return status;
}

int RequestQueue::SizeLocked() const {
  int n = 0;
  for (const auto& [priority, items] : by_priority_) n += static_cast<int>(items.size());
  return n;
}

bool RequestQueue::FullLocked(int max_items, int max_tokens) const {
  int count = 0;
  int64_t tokens = 0;
  for (const auto& [priority, items] : by_priority_) {
    for (const auto& item : items) {
      if (++count >= max_items) return true;
      if ((tokens += item->size) >= max_tokens) return true;
    }
  }
  return false;
}

int RequestQueue::size() const {
  absl::MutexLock lock(&mu_);
  return SizeLocked();
}

bool RequestQueue::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

void RequestQueue::TakeDeadLocked(DeadItems* dead) {
  const absl::Time now = absl::Now();
  for (auto& [priority, items] : by_priority_) {
    for (auto it = items.begin(); it != items.end();) {
      if (absl::Status stop = (*it)->StopStatus(now, "while queued"); !stop.ok()) {
        dead->emplace_back(std::move(*it), std::move(stop));
        it = items.erase(it);
      } else {
        ++it;
      }
    }
  }
}

std::vector<std::shared_ptr<WorkItem>> RequestQueue::Pop(int max_items,
                                                         absl::Duration timeout,
                                                         absl::Duration fill_delay,
                                                         int max_tokens) {
  DeadItems dead;
  std::vector<std::shared_ptr<WorkItem>> out;
  {
    absl::MutexLock lock(&mu_);
    auto has_items = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closed_ || SizeLocked() > 0;
    };
    mu_.AwaitWithTimeout(absl::Condition(&has_items), timeout);
    TakeDeadLocked(&dead);
    if (fill_delay > absl::ZeroDuration() && SizeLocked() > 0 &&
        !FullLocked(max_items, max_tokens)) {
      // Wait for a fuller batch, but never past the oldest item's delay.
      absl::Time oldest = absl::InfiniteFuture();
      for (const auto& [priority, items] : by_priority_) {
        if (!items.empty()) oldest = std::min(oldest, items.front()->enqueued_at);
      }
      auto full = [this, max_items, max_tokens]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return closed_ || FullLocked(max_items, max_tokens);
      };
      mu_.AwaitWithDeadline(absl::Condition(&full), oldest + fill_delay);
      TakeDeadLocked(&dead);
    }
    int64_t tokens = 0;
    for (auto& [priority, items] : by_priority_) {
      while (!items.empty() && static_cast<int>(out.size()) < max_items) {
        // The token budget bounds the batch, but a lone item always runs.
        if (!out.empty() && tokens + items.front()->size > max_tokens) break;
        tokens += items.front()->size;
        out.push_back(std::move(items.front()));
        items.pop_front();
      }
      if (!items.empty()) break;  // lower priorities wait behind this one
    }
  }
  CompleteAll(dead);
  return out;
}

void RequestQueue::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

void RequestQueue::Drain(const absl::Status& status) {
  DeadItems dead;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [priority, items] : by_priority_) {
      for (auto& item : items) dead.emplace_back(std::move(item), status);
      items.clear();
    }
  }
  CompleteAll(dead);
}

}  // namespace heed::server
