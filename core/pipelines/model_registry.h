// Loads a Hugging Face model directory and picks its pipeline from
// config.json: Marian → translation, BART → summarization, BERT / DistilBERT
// with labels → sentiment. The registry is what the server sees of core.
#ifndef HEED_CORE_PIPELINES_MODEL_REGISTRY_H_
#define HEED_CORE_PIPELINES_MODEL_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/pipelines/sentiment_classifier.h"
#include "core/pipelines/text_generator.h"

namespace heed::pipelines {

enum class Task { kTranslation, kSummarization, kSentiment };

struct LoadedModel {
  std::string name;     // the directory's name unless configured otherwise
  std::string version;  // <dir>/VERSION if present, else "unversioned"
  std::string directory;
  Task task = Task::kTranslation;
  std::string architecture;
  // The compute type asked for, what it runs as at this ISA level, and why.
  ops::ComputeTypeChoice compute;
  std::unique_ptr<TextGenerator> generator;         // translation, summarization
  std::unique_ptr<SentimentClassifier> classifier;  // sentiment
  int max_input_tokens() const;
};

absl::StatusOr<std::unique_ptr<LoadedModel>> LoadModel(const std::string& model_dir,
                                                       ops::ComputeType compute_type);

// Every subdirectory of `root` that holds a config.json, in name order.
absl::StatusOr<std::vector<std::string>> FindModelDirectories(const std::string& root);

}  // namespace heed::pipelines

#endif  // HEED_CORE_PIPELINES_MODEL_REGISTRY_H_
