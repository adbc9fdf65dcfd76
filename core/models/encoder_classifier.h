// Sequence classifiers on a transformer encoder: BERT (BertForSequenceClassification:
// tanh pooler over [CLS], then the classifier) and DistilBERT
// (DistilBertForSequenceClassification: ReLU pre-classifier over [CLS], then
// the classifier). Weight names and layouts are the Hub checkpoints'.
#ifndef HEED_CORE_MODELS_ENCODER_CLASSIFIER_H_
#define HEED_CORE_MODELS_ENCODER_CLASSIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/models/encoder_layer.h"
#include "core/models/weights.h"

namespace heed::models {

class EncoderClassifier {
 public:
  static absl::StatusOr<std::unique_ptr<EncoderClassifier>> Load(
      const std::string& model_dir, ops::ComputeType compute_type);

  // Logits ([num_labels] each) for a batch of token id sequences, computed
  // together without padding. A sequence longer than the model's positions or
  // an id outside the vocabulary is an error naming it.
  // If `attributions` is given it receives, per sequence, the last layer's
  // attention of the first token ([CLS]) to every token, averaged over heads.
  absl::StatusOr<std::vector<std::vector<float>>> Classify(
      const std::vector<std::vector<int32_t>>& batch,
      std::vector<std::vector<float>>* attributions = nullptr) const;

  const io::ModelConfig& config() const { return config_; }

 private:
  EncoderClassifier() = default;

  io::ModelConfig config_;
  Tensor word_embeddings_, position_embeddings_,
      token_type_embedding_;  // last: BERT only
  LayerNormWeights embedding_norm_;
  std::vector<EncoderLayer> layers_;
  mutable EncoderLayer::ScratchCache scratch_cache_;
  std::unique_ptr<ops::Linear>
      pre_classifier_;  // BERT pooler (tanh) or DistilBERT (ReLU)
  std::unique_ptr<ops::Linear> classifier_;
};

}  // namespace heed::models

#endif  // HEED_CORE_MODELS_ENCODER_CLASSIFIER_H_
