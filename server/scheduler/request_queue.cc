#include "server/scheduler/request_queue.h"

#include "absl/strings/str_cat.h"

namespace heed::server {

absl::Status RequestQueue::Push(std::shared_ptr<WorkItem> item) {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::UnavailableError("the server is shutting down");
  DropDeadLocked();
  if (SizeLocked() >= capacity_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the model's queue is full (", capacity_, " requests); retry later"));
  }
  item->enqueued_at = absl::Now();
  by_priority_[item->priority].push_back(std::move(item));
  return absl::OkStatus();
}

int RequestQueue::SizeLocked() const {
  int n = 0;
  for (const auto& [priority, items] : by_priority_) n += static_cast<int>(items.size());
  return n;
}

int RequestQueue::size() const {
  absl::MutexLock lock(&mu_);
  return SizeLocked();
}

bool RequestQueue::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

void RequestQueue::DropDeadLocked() {
  const absl::Time now = absl::Now();
  for (auto& [priority, items] : by_priority_) {
    for (auto it = items.begin(); it != items.end();) {
      if ((*it)->cancelled()) {
        (*it)->Complete(absl::CancelledError("the client cancelled the request"));
        it = items.erase(it);
      } else if ((*it)->deadline <= now) {
        (*it)->Complete(absl::DeadlineExceededError("the deadline passed while queued"));
        it = items.erase(it);
      } else {
        ++it;
      }
    }
  }
}

std::vector<std::shared_ptr<WorkItem>> RequestQueue::Pop(int max_items,
                                                         absl::Duration timeout,
                                                         absl::Duration fill_delay) {
  absl::MutexLock lock(&mu_);
  auto has_items = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || SizeLocked() > 0;
  };
  mu_.AwaitWithTimeout(absl::Condition(&has_items), timeout);
  DropDeadLocked();
  if (fill_delay > absl::ZeroDuration() && SizeLocked() > 0 && SizeLocked() < max_items) {
    // Wait for a fuller batch, but never past the oldest item's delay.
    absl::Time oldest = absl::InfiniteFuture();
    for (const auto& [priority, items] : by_priority_) {
      if (!items.empty()) oldest = std::min(oldest, items.front()->enqueued_at);
    }
    auto full = [this, max_items]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closed_ || SizeLocked() >= max_items;
    };
    mu_.AwaitWithDeadline(absl::Condition(&full), oldest + fill_delay);
    DropDeadLocked();
  }
  std::vector<std::shared_ptr<WorkItem>> out;
  for (auto& [priority, items] : by_priority_) {
    while (!items.empty() && static_cast<int>(out.size()) < max_items) {
      out.push_back(std::move(items.front()));
      items.pop_front();
    }
  }
  return out;
}

void RequestQueue::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

void RequestQueue::Drain(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  for (auto& [priority, items] : by_priority_) {
    for (auto& item : items) item->Complete(status);
    items.clear();
  }
}

}  // namespace heed::server
