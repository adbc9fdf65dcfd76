// The work items of heed's pipelines and the runners that adapt the pipelines
// to the scheduler: GenerationRunner steps TextGenerator jobs (translation,
// summarization; continuous batching) and ClassificationRunner runs
// SentimentClassifier batches (dynamic batching). Compute slots keep the
// models' workers within the process's thread budget.
#ifndef HEED_SERVER_ENGINE_RUNNERS_H_
#define HEED_SERVER_ENGINE_RUNNERS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/pipelines/sentiment_classifier.h"
#include "core/pipelines/text_generator.h"
#include "server/scheduler/scheduler.h"

namespace heed::server {

// The process's compute threads, shared by every model: a computation
// acquires the threads it will run on, so that the threads of the
// computations running at once never exceed the budget, whatever mix of
// per-model thread counts is configured. Threads are handed out first come,
// first served: a runner that releases them between steps and asks again
// queues behind the other models' runners, so a long request cannot keep the
// compute to itself.
class ComputeSlots {
 public:
  explicit ComputeSlots(int threads) : budget_(threads), free_(threads) {}
  // Blocks until `threads` (at most the budget) are free and every earlier
  // caller has been served.
  void Acquire(int threads = 1);
  void Release(int threads = 1);
  // Runners waiting in Acquire right now.
  int waiting() const;
  // The most threads held at once so far.
  int peak_in_use() const;

 private:
  mutable absl::Mutex mu_;
  const int budget_;
  int free_ ABSL_GUARDED_BY(mu_);
  int peak_in_use_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t now_serving_ ABSL_GUARDED_BY(mu_) = 0;
};

// A generation item's size for the scheduler (length bucketing, the in-flight
// cap): its source tokens plus every beam's output tokens.
int GenerationWorkSize(int source_tokens, const pipelines::PreparedGeneration& prepared);

// A generation request's worst-case work in decoder rows times steps: every
// beam for every output token, plus the alignment pass over every returned
// hypothesis. Admission compares it with the model's max_request_cost.
int64_t GenerationCost(const pipelines::PreparedGeneration& prepared,
                       bool return_alignment);

// Tokens a text will have, estimated from its bytes before tokenizing (for
// batching and the in-flight cap until the runner tokenizes it), at most
// `limit`.
int EstimatedTokens(const std::string& text, int limit);

class GenerationWork : public WorkItem {
 public:
  // Options resolved on the network thread; the runner tokenizes the text.
  pipelines::PreparedGeneration prepared;
  bool return_alignment = false;
  // Streaming: called on the worker thread with the text generated so far
  // whenever it grew.
  std::function<void(const std::string& text_so_far, int tokens_so_far)> on_progress;
  // Called once with the final status; `result` is set when it is OK.
  std::function<void(const absl::Status&, GenerationWork&)> on_done;
  pipelines::GenerationResult result;

  // The runner's state.
  std::unique_ptr<pipelines::GenerationJob> job;
  size_t reported_tokens = 0;

 protected:
  void OnComplete(absl::Status status) override {
    if (on_done) on_done(status, *this);
  }
};

class GenerationRunner final : public StepRunner {
 public:
  GenerationRunner(const pipelines::TextGenerator* generator, ComputeSlots* slots,
                   int threads)
      : generator_(generator), slots_(slots), threads_(threads) {}
  void OnWorkerStart() override;
  std::vector<absl::Status> Start(std::span<WorkItem* const> items) override;
  absl::Status Step(const std::vector<WorkItem*>& active) override;
  bool Done(WorkItem& item) override;
  void Finish(WorkItem& item) override;

 private:
  const pipelines::TextGenerator* generator_;
  ComputeSlots* slots_;
  int threads_;
};

class ClassificationWork : public WorkItem {
 public:
  // The request's texts; the runner tokenizes them into `texts`.
  std::vector<std::string> inputs;
  pipelines::LongInput long_input = pipelines::LongInput::kError;
  std::vector<pipelines::Classification> texts;
  bool attributions = false;
  std::function<void(const absl::Status&, ClassificationWork&)> on_done;

 protected:
  void OnComplete(absl::Status status) override {
    if (on_done) on_done(status, *this);
  }
};

class ClassificationRunner final : public BatchRunner {
 public:
  ClassificationRunner(const pipelines::SentimentClassifier* classifier,
                       ComputeSlots* slots, int threads)
      : classifier_(classifier), slots_(slots), threads_(threads) {}
  void OnWorkerStart() override;
  void RunBatch(const std::vector<WorkItem*>& batch) override;

 private:
  const pipelines::SentimentClassifier* classifier_;
  ComputeSlots* slots_;
  int threads_;
};

}  // namespace heed::server

#endif  // HEED_SERVER_ENGINE_RUNNERS_H_
