#include "server/engine/runners.h"

#include "core/cpu/threading.h"

namespace heed::server {

void ComputeSlots::Acquire() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* free) { return *free > 0; }, &free_));
  --free_;
}

void ComputeSlots::Release() {
  absl::MutexLock lock(&mu_);
  ++free_;
}

namespace {

class SlotGuard {
 public:
  explicit SlotGuard(ComputeSlots* slots) : slots_(slots) { slots_->Acquire(); }
  ~SlotGuard() { slots_->Release(); }

 private:
  ComputeSlots* slots_;
};

}  // namespace

// OpenMP's thread count is per thread: set it on the thread that computes.
void GenerationRunner::OnWorkerStart() { cpu::SetComputeThreads(threads_); }

absl::Status GenerationRunner::Start(WorkItem& item) {
  auto& work = static_cast<GenerationWork&>(item);
  SlotGuard slot(slots_);
  auto job = generator_->Start(work.prepared, work.return_alignment);
  if (!job.ok()) return job.status();
  work.job = *std::move(job);
  return absl::OkStatus();
}

absl::Status GenerationRunner::Step(const std::vector<WorkItem*>& active) {
  std::vector<pipelines::GenerationJob*> jobs;
  jobs.reserve(active.size());
  for (WorkItem* item : active) jobs.push_back(static_cast<GenerationWork*>(item)->job.get());
  {
    SlotGuard slot(slots_);
    if (absl::Status s = generator_->Step(jobs); !s.ok()) return s;
  }
  for (WorkItem* item : active) {
    auto& work = *static_cast<GenerationWork*>(item);
    if (!work.on_progress) continue;
    const std::vector<int> tokens = work.job->FinalTokens();
    if (tokens.size() > work.reported_tokens) {
      work.reported_tokens = tokens.size();
      work.on_progress(generator_->DecodeIds(tokens), static_cast<int>(tokens.size()));
    }
  }
  return absl::OkStatus();
}

bool GenerationRunner::Done(WorkItem& item) {
  return static_cast<GenerationWork&>(item).job->done();
}

void GenerationRunner::Finish(WorkItem& item) {
  auto& work = static_cast<GenerationWork&>(item);
  absl::StatusOr<pipelines::GenerationResult> result;
  {
    SlotGuard slot(slots_);
    result = generator_->Finish(*work.job);
  }
  work.job.reset();
  if (!result.ok()) {
    work.Complete(result.status());
    return;
  }
  work.result = *std::move(result);
  work.Complete(absl::OkStatus());
}

void ClassificationRunner::OnWorkerStart() { cpu::SetComputeThreads(threads_); }

void ClassificationRunner::RunBatch(const std::vector<WorkItem*>& batch) {
  std::vector<pipelines::Classification*> texts;
  bool attributions = false;
  for (WorkItem* item : batch) {
    auto& work = *static_cast<ClassificationWork*>(item);
    attributions |= work.attributions;
    for (auto& text : work.texts) texts.push_back(&text);
  }
  absl::Status status;
  {
    SlotGuard slot(slots_);
    status = classifier_->Run(texts, attributions);
  }
  for (WorkItem* item : batch) item->Complete(status);
}

}  // namespace heed::server
