#include "server/engine/runners.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/cpu/threading.h"
#include "core/pipelines/status_details.h"

namespace heed::server {

void ComputeSlots::Acquire(int threads) {
  threads = std::clamp(threads, 1, budget_);
  absl::MutexLock lock(&mu_);
  const uint64_t ticket = next_ticket_++;
  auto my_turn = [this, ticket, threads]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return free_ >= threads && now_serving_ == ticket;
  };
  mu_.Await(absl::Condition(&my_turn));
  free_ -= threads;
  peak_in_use_ = std::max(peak_in_use_, budget_ - free_);
  ++now_serving_;
}

int ComputeSlots::peak_in_use() const {
  absl::MutexLock lock(&mu_);
  return peak_in_use_;
}

int ComputeSlots::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(next_ticket_ - now_serving_);
}

void ComputeSlots::Release(int threads) {
  threads = std::clamp(threads, 1, budget_);
  absl::MutexLock lock(&mu_);
  free_ += threads;
}

namespace {

// Holds a computation's threads for its scope.
class SlotGuard {
 public:
  SlotGuard(ComputeSlots* slots, int threads) : slots_(slots), threads_(threads) {
    slots_->Acquire(threads_);
  }
  ~SlotGuard() { slots_->Release(threads_); }

 private:
  ComputeSlots* slots_;
  int threads_;
};

}  // namespace

// OpenMP's thread count is per thread: set it on the thread that computes.
void GenerationRunner::OnWorkerStart() { cpu::SetComputeThreads(threads_); }

int EstimatedTokens(const std::string& text, int limit) {
  // Subword tokenizers average 3-5 bytes per token on prose.
  return static_cast<int>(std::min<size_t>(text.size() / 4 + 2, std::max(limit, 1)));
}

std::vector<absl::Status> GenerationRunner::Start(std::span<WorkItem* const> items) {
  std::vector<absl::Status> statuses(items.size());
  std::vector<pipelines::PreparedGeneration> prepared;
  std::vector<bool> alignments;
  std::vector<size_t> starting;
  for (size_t i = 0; i < items.size(); ++i) {
    auto& work = *static_cast<GenerationWork*>(items[i]);
    // Tokenizing here, on the model's worker and before taking a compute
    // slot, keeps long texts off gRPC's threads (health checks stay fast) and
    // out of the other models' way.
    if (absl::Status s = generator_->Tokenize(&work.prepared); !s.ok()) {
      statuses[i] = pipelines::WithField(s, "text");
      continue;
    }
    work.size = GenerationWorkSize(static_cast<int>(work.prepared.source_ids.size()),
                                   work.prepared);
    prepared.push_back(work.prepared);
    alignments.push_back(work.return_alignment);
    starting.push_back(i);
  }
  if (starting.empty()) return statuses;
  SlotGuard slot(slots_, threads_);
  auto jobs = generator_->StartBatch(std::move(prepared), alignments);
  for (size_t j = 0; j < starting.size(); ++j) {
    if (!jobs[j].ok()) {
      statuses[starting[j]] = jobs[j].status();
      continue;
    }
    static_cast<GenerationWork*>(items[starting[j]])->job = *std::move(jobs[j]);
  }
  return statuses;
}

absl::Status GenerationRunner::Step(const std::vector<WorkItem*>& active) {
  std::vector<pipelines::GenerationJob*> jobs;
  jobs.reserve(active.size());
  for (WorkItem* item : active)
    jobs.push_back(static_cast<GenerationWork*>(item)->job.get());
  {
    SlotGuard slot(slots_, threads_);
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
    SlotGuard slot(slots_, threads_);
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
    SlotGuard slot(slots_, threads_);
    status = classifier_->Run(texts, attributions);
  }
  for (WorkItem* item : ready) item->Complete(status);
}

}  // namespace heed::server
