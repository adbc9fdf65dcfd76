#include "server/service/work_items.h"

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

absl::Status GenerationBackend::Start(WorkItem& item) {
  auto& work = static_cast<GenerationWork&>(item);
  SlotGuard slot(slots_);
  auto encoder = generator_->model().Encode(work.prepared.source_ids);
  if (!encoder.ok()) return encoder.status();
  work.encoder = *encoder;
  auto search = generation::StartSearch(generator_->model(), work.encoder,
                                        work.prepared.params, work.prepared.search);
  if (!search.ok()) return search.status();
  work.search = std::move(*search);
  return absl::OkStatus();
}

absl::Status GenerationBackend::Step(const std::vector<WorkItem*>& active) {
  std::vector<generation::Search*> searches;
  for (WorkItem* item : active)
    searches.push_back(static_cast<GenerationWork*>(item)->search.get());
  {
    SlotGuard slot(slots_);
    if (absl::Status s = generation::StepSearches(generator_->model(), searches); !s.ok())
      return s;
  }
  for (WorkItem* item : active) {
    auto& work = *static_cast<GenerationWork*>(item);
    if (!work.on_progress) continue;
    const std::vector<int> tokens = work.search->FinalTokens();
    if (tokens.size() > work.reported_tokens) {
      work.reported_tokens = tokens.size();
      work.on_progress(generator_->DecodeIds(tokens), static_cast<int>(tokens.size()));
    }
  }
  return absl::OkStatus();
}

bool GenerationBackend::Done(WorkItem& item) {
  return static_cast<GenerationWork&>(item).search->done();
}

void GenerationBackend::Finish(WorkItem& item) {
  auto& work = static_cast<GenerationWork&>(item);
  absl::StatusOr<pipelines::GenerationResult> result;
  {
    SlotGuard slot(slots_);
    result = generator_->Finish(work.prepared, work.encoder, work.search->Results(),
                                work.return_alignment);
  }
  work.encoder.reset();
  work.search.reset();  // frees the caches before the answer goes out
  if (!result.ok()) {
    work.Complete(result.status());
    return;
  }
  work.result = std::move(*result);
  work.Complete(absl::OkStatus());
}

void ClassificationBackend::RunBatch(const std::vector<WorkItem*>& batch) {
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
