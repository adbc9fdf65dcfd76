// One thread, with a bounded queue, for the work of a call that is neither
// cheap enough for gRPC's threads nor part of a model's batches (tokenizing
// a megabyte text for the Tokenize RPC): a flood of such calls is refused at
// once rather than queued without end or run where health checks wait.
#ifndef HEED_SERVER_SERVICE_SIDE_WORKER_H_
#define HEED_SERVER_SERVICE_SIDE_WORKER_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace heed::server {

class SideWorker {
 public:
  explicit SideWorker(int max_queued);
  ~SideWorker();  // runs every queued job, then joins
  SideWorker(const SideWorker&) = delete;
  SideWorker& operator=(const SideWorker&) = delete;

  // False (and `job` dropped) when max_queued jobs are waiting.
  bool TrySubmit(std::function<void()> job);

 private:
  void Run();
  bool HasWorkOrStops() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !jobs_.empty();
  }

  const int max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_SIDE_WORKER_H_
