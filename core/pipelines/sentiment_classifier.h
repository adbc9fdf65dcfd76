// Text in, labels out for BERT / DistilBERT sequence classifiers: many texts
// per call, computed as one packed batch; label probabilities by softmax; and
// optional per-token attributions (the [CLS] token's attention in the last
// layer) for users who need to see what the model looked at.
#ifndef HEED_CORE_PIPELINES_SENTIMENT_CLASSIFIER_H_
#define HEED_CORE_PIPELINES_SENTIMENT_CLASSIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/models/encoder_classifier.h"
#include "core/pipelines/text_tokenizer.h"

namespace heed::pipelines {

struct Classification {
  int label = 0;                     // index into labels()
  std::vector<float> probabilities;  // one per label, summing to 1
  std::vector<tokenizers::Token> tokens;
  std::vector<float> attributions;  // one per token, when asked for
  bool truncated = false;
};

class SentimentClassifier {
 public:
  static absl::StatusOr<std::unique_ptr<SentimentClassifier>> Load(
      const std::string& model_dir, ops::ComputeType compute_type);

  // Tokenizes one text; over the model's limit is an error unless `truncate`.
  absl::StatusOr<Classification> Prepare(const std::string& text, bool truncate) const;
  // Classifies prepared texts together (one model call), filling in label,
  // probabilities and, if asked, attributions.
  absl::Status Run(std::vector<Classification*> batch, bool attributions) const;
  absl::StatusOr<std::vector<Classification>> Classify(
      const std::vector<std::string>& texts, bool truncate, bool attributions) const;

  const std::vector<std::string>& labels() const { return model_->config().labels; }
  const io::ModelConfig& config() const { return model_->config(); }
  int max_input_tokens() const { return config().max_position_embeddings; }

 private:
  SentimentClassifier() = default;
  std::unique_ptr<models::EncoderClassifier> model_;
  std::unique_ptr<TextTokenizer> tokenizer_;
};

}  // namespace heed::pipelines

#endif  // HEED_CORE_PIPELINES_SENTIMENT_CLASSIFIER_H_
