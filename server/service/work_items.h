// The scheduler's work items for heed's pipelines and the backends that run
// them: GenerationWork (translation, summarization; continuous batching) and
// ClassificationWork (sentiment; dynamic batching).
#ifndef HEED_SERVER_SERVICE_WORK_ITEMS_H_
#define HEED_SERVER_SERVICE_WORK_ITEMS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/pipelines/sentiment_classifier.h"
#include "core/pipelines/text_generator.h"
#include "server/scheduler/scheduler.h"

namespace heed::server {

// Limits concurrent compute across all models so that workers times threads
// per call never exceeds the cores.
class ComputeSlots {
 public:
  explicit ComputeSlots(int slots) : free_(slots) {}
  void Acquire();
  void Release();

 private:
  absl::Mutex mu_;
  int free_ ABSL_GUARDED_BY(mu_);
};

class GenerationWork : public WorkItem {
 public:
  pipelines::PreparedGeneration prepared;
  bool return_alignment = false;
  // Streaming: called on the worker thread with the text generated so far
  // whenever it grew.
  std::function<void(const std::string& text_so_far, int tokens_so_far)> on_progress;
  // Called once with the final status; `result` is set when it is OK.
  std::function<void(const absl::Status&, GenerationWork&)> on_done;
  pipelines::GenerationResult result;

  // Backend state.
  std::shared_ptr<const models::EncoderOutput> encoder;
  std::unique_ptr<generation::Search> search;
  size_t reported_tokens = 0;

 protected:
  void OnComplete(absl::Status status) override {
    if (on_done) on_done(status, *this);
  }
};

class GenerationBackend final : public Backend {
 public:
  GenerationBackend(const pipelines::TextGenerator* generator, ComputeSlots* slots)
      : generator_(generator), slots_(slots) {}
  bool continuous() const override { return true; }
  absl::Status Start(WorkItem& item) override;
  absl::Status Step(const std::vector<WorkItem*>& active) override;
  bool Done(WorkItem& item) override;
  void Finish(WorkItem& item) override;

 private:
  const pipelines::TextGenerator* generator_;
  ComputeSlots* slots_;
};

class ClassificationWork : public WorkItem {
 public:
  std::vector<pipelines::Classification> texts;
  bool attributions = false;
  std::function<void(const absl::Status&, ClassificationWork&)> on_done;

 protected:
  void OnComplete(absl::Status status) override {
    if (on_done) on_done(status, *this);
  }
};

class ClassificationBackend final : public Backend {
 public:
  ClassificationBackend(const pipelines::SentimentClassifier* classifier,
                        ComputeSlots* slots)
      : classifier_(classifier), slots_(slots) {}
  bool continuous() const override { return false; }
  void RunBatch(const std::vector<WorkItem*>& batch) override;

 private:
  const pipelines::SentimentClassifier* classifier_;
  ComputeSlots* slots_;
};

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_WORK_ITEMS_H_
