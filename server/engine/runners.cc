#include "server/engine/runners.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/cpu/threading.h"
#include "core/pipelines/status_details.h"

namespace heed::server {

void ComputeSlots::Acquire() {
  absl::MutexLock lock(&mu_);
  const uint64_t ticket = next_ticket_++;
  auto my_turn = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return free_ > 0 && now_serving_ == ticket;
  };
  mu_.Await(absl::Condition(&my_turn));
  --free_;
  ++now_serving_;
}

int ComputeSlots::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(next_ticket_ - now_serving_);
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

int EstimatedTokens(const std::string& text, int limit) {
  // Subword tokenizers average 3-5 bytes per token on prose.
  return static_cast<int>(std::min<size_t>(text.size() / 4 + 2, std::max(limit, 1)));
}

absl::Status GenerationRunner::Start(WorkItem& item) {
  auto& work = static_cast<GenerationWork&>(item);
  // Tokenizing here, on the model's worker and before taking a compute slot,
  // keeps long texts off gRPC's threads (health checks stay fast) and out of
  // the other models' way.
  if (absl::Status s = generator_->Tokenize(&work.prepared); !s.ok()) {
    return pipelines::WithField(s, "text");
  }
  work.size = GenerationWorkSize(static_cast<int>(work.prepared.source_ids.size()),
                                 work.prepared);
  SlotGuard slot(slots_);
  auto job = generator_->Start(work.prepared, work.return_alignment);
  if (!job.ok()) return job.status();
  work.job = *std::move(job);
  return absl::OkStatus();
}

absl::Status GenerationRunner::Step(const std::vector<WorkItem*>& active) {
  std::vector<pipelines::GenerationJob*> jobs;
  jobs.reserve(active.size());
  for (WorkItem* item : active)
    jobs.push_back(static_cast<GenerationWork*>(item)->job.get());
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

int GenerationWorkSize(int source_tokens, const pipelines::PreparedGeneration& prepared) {
  return source_tokens + prepared.params.max_length * prepared.search.num_beams;
}

int64_t GenerationCost(const pipelines::PreparedGeneration& prepared,
                       bool return_alignment) {
  const int64_t steps = prepared.params.max_length;
  const int64_t rows = prepared.search.num_beams +
                       (return_alignment ? prepared.search.num_return_sequences : 0);
  return rows * steps;
}

void GenerationRunner::Finish(WorkItem& item) {
  auto& work = static_cast<GenerationWork&>(item);
  absl::StatusOr<pipelines::GenerationResult> result;
  {
    SlotGuard slot(slots_);
    // Alignments re-run the decoder: between its steps the other models get
    // their turn, and the request stops at its deadline or cancellation.
    auto between_steps = [this, &work]() -> absl::Status {
      slots_->Release();
      slots_->Acquire();
      return work.StopStatus(absl::Now(), "during computation");
    };
    result = generator_->Finish(*work.job, between_steps);
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
  // Tokenize first, outside the compute slot; a request with a text the model
  // refuses (too long for its long-input policy) ends alone with the reason.
  std::vector<WorkItem*> ready;
  for (WorkItem* item : batch) {
    auto& work = *static_cast<ClassificationWork*>(item);
    absl::Status status;
    work.texts.clear();
    for (size_t i = 0; i < work.inputs.size() && status.ok(); ++i) {
      auto prepared = classifier_->Prepare(work.inputs[i], work.long_input);
      if (!prepared.ok()) {
        const std::string field = absl::StrCat("texts[", i, "]");
        status = pipelines::WithField(
            pipelines::Prefixed(prepared.status(), absl::StrCat(field, ": ")), field);
      } else {
        work.texts.push_back(*std::move(prepared));
      }
    }
    if (status.ok()) {
      ready.push_back(item);
    } else {
      item->Complete(status);
    }
  }
  if (ready.empty()) return;
  std::vector<pipelines::Classification*> texts;
  bool attributions = false;
  for (WorkItem* item : ready) {
    auto& work = *static_cast<ClassificationWork*>(item);
    attributions |= work.attributions;
    for (auto& text : work.texts) texts.push_back(&text);
  }
  absl::Status status;
  {
    SlotGuard slot(slots_);
    status = classifier_->Run(texts, attributions);
  }
  for (WorkItem* item : ready) item->Complete(status);
}

}  // namespace heed::server
