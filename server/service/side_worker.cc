#include "server/service/side_worker.h"

namespace heed::server {

SideWorker::SideWorker(int max_queued)
    : max_queued_(max_queued), thread_([this] { Run(); }) {}

SideWorker::~SideWorker() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

bool SideWorker::TrySubmit(std::function<void()> job) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || static_cast<int>(jobs_.size()) >= max_queued_) return false;
  jobs_.push_back(std::move(job));
  return true;
}

void SideWorker::Run() {
  while (true) {
    std::function<void()> job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &SideWorker::HasWorkOrStops));
      if (jobs_.empty()) return;  // stopping, and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace heed::server
