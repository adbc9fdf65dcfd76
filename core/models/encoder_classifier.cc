#include "core/models/encoder_classifier.h"

#include <cmath>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/kernels/elementwise.h"

namespace heed::models {

absl::StatusOr<std::unique_ptr<EncoderClassifier>> EncoderClassifier::Load(
    const std::string& model_dir, ops::ComputeType compute_type) {
  absl::StatusOr<io::ModelConfig> config = io::ReadModelConfig(model_dir);
  if (!config.ok()) return config.status();
  const bool bert = config->family == io::ModelFamily::kBert;
  if (!bert && config->family != io::ModelFamily::kDistilBert) {
    return absl::InvalidArgumentError(absl::StrCat(
        model_dir, ": ", config->model_type, " is not a sequence classifier family"));
  }
  if (config->labels.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(model_dir, "/config.json: a classifier needs id2label"));
  }
  absl::StatusOr<io::Checkpoint> checkpoint = io::Checkpoint::Open(model_dir);
  if (!checkpoint.ok()) return checkpoint.status();
  WeightLoader loader(&*checkpoint, compute_type);
  std::unique_ptr<EncoderClassifier> model(new EncoderClassifier);
  model->config_ = *config;
  const io::ModelConfig& c = model->config_;
  const int64_t d = c.d_model, labels = static_cast<int64_t>(c.labels.size());
  const std::string base = bert ? "bert.embeddings." : "distilbert.embeddings.";

  absl::StatusOr<Tensor> words =
      loader.Load(base + "word_embeddings.weight", {c.vocab_size, d});
  if (!words.ok()) return words.status();
  model->word_embeddings_ = std::move(*words);
  absl::StatusOr<Tensor> positions =
      loader.Load(base + "position_embeddings.weight", {c.max_position_embeddings, d});
  if (!positions.ok()) return positions.status();
  model->position_embeddings_ = std::move(*positions);
  if (bert) {
    absl::StatusOr<Tensor> types =
        loader.Load(base + "token_type_embeddings.weight", {c.type_vocab_size, d});
    if (!types.ok()) return types.status();
    model->token_type_embedding_ =
        std::move(*types);  // heed uses type 0 (single sentence)
  }
  absl::StatusOr<LayerNormWeights> norm =
      loader.Norm(base + "LayerNorm.", d, c.layer_norm_eps);
  if (!norm.ok()) return norm.status();
  model->embedding_norm_ = std::move(*norm);

  absl::StatusOr<ops::Activation> activation = ActivationFromName(c.activation);
  if (!activation.ok()) return activation.status();
  for (int i = 0; i < c.encoder_layers; ++i) {
    EncoderLayerNames names;
    if (bert) {
      const std::string p = absl::StrCat("bert.encoder.layer.", i, ".");
      names = {p + "attention.self.query.",
               p + "attention.self.key.",
               p + "attention.self.value.",
               p + "attention.output.dense.",
               p + "attention.output.LayerNorm.",
               p + "intermediate.dense.",
               p + "output.dense.",
               p + "output.LayerNorm."};
    } else {
      const std::string p = absl::StrCat("distilbert.transformer.layer.", i, ".");
      names = {p + "attention.q_lin.",   p + "attention.k_lin.",  p + "attention.v_lin.",
               p + "attention.out_lin.", p + "sa_layer_norm.",    p + "ffn.lin1.",
               p + "ffn.lin2.",          p + "output_layer_norm."};
    }
    absl::StatusOr<EncoderLayer> layer =
        EncoderLayer::Load(loader, names, c.d_model, c.encoder_heads, c.encoder_ffn_dim,
                           *activation, c.layer_norm_eps);
    if (!layer.ok()) return layer.status();
    model->layers_.push_back(std::move(*layer));
  }
  auto pre = bert ? loader.Linear("bert.pooler.dense.", d, d, ops::Activation::kNone)
                  : loader.Linear("pre_classifier.", d, d, ops::Activation::kRelu);
  if (!pre.ok()) return pre.status();
  model->pre_classifier_ = std::move(*pre);
  auto classifier = loader.Linear("classifier.", labels, d, ops::Activation::kNone);
  if (!classifier.ok()) return classifier.status();
  model->classifier_ = std::move(*classifier);
  return model;
}

absl::StatusOr<std::vector<std::vector<float>>> EncoderClassifier::Classify(
    const std::vector<std::vector<int32_t>>& batch,
    std::vector<std::vector<float>>* attributions) const {
  const int64_t d = config_.d_model;
  std::vector<int32_t> offsets = {0};
  for (size_t b = 0; b < batch.size(); ++b) {
    const int64_t length = static_cast<int64_t>(batch[b].size());
    if (length == 0 || length > config_.max_position_embeddings) {
      return absl::InvalidArgumentError(absl::StrCat("input ", b, " has ", length,
                                                     " tokens; the model accepts 1 to ",
                                                     config_.max_position_embeddings));
    }
    offsets.push_back(offsets.back() + static_cast<int32_t>(length));
  }
  const int64_t tokens = offsets.back();
  std::vector<float> x(tokens * d);
  for (size_t b = 0; b < batch.size(); ++b) {
    float* rows = x.data() + offsets[b] * d;
    if (absl::Status s = kernels::EmbeddingGather(
            word_embeddings_.data<float>(), config_.vocab_size, d, batch[b], 1.0f, rows);
        !s.ok()) {
      return s;
    }
    for (size_t t = 0; t < batch[b].size(); ++t) {
      kernels::AddInPlace(rows + t * d, position_embeddings_.data<float>() + t * d, d);
      if (config_.family == io::ModelFamily::kBert) {
        kernels::AddInPlace(rows + t * d, token_type_embedding_.data<float>(), d);
      }
    }
  }
  embedding_norm_.Apply(x.data(), x.data(), tokens);
  std::vector<float> attention;
  if (absl::Status s =
          EncoderLayer::ForwardStack(layers_, x.data(), offsets, scratch_cache_,
                                     attributions != nullptr ? &attention : nullptr);
      !s.ok()) {
    return s;
  }
  if (attributions != nullptr) {
    attributions->clear();
    for (size_t b = 0; b < batch.size(); ++b) {
      attributions->emplace_back(attention.begin() + offsets[b],
                                 attention.begin() + offsets[b + 1]);
    }
  }
  // The first token ([CLS]) of each sequence.
  const int64_t n = static_cast<int64_t>(batch.size());
  std::vector<float> first(n * d), pooled(n * d);
  for (int64_t b = 0; b < n; ++b) {
    std::memcpy(first.data() + b * d, x.data() + offsets[b] * d, d * sizeof(float));
  }
  if (absl::Status s = pre_classifier_->Forward(first.data(), n, pooled.data()); !s.ok())
    return s;
  if (config_.family == io::ModelFamily::kBert) {
    for (float& v : pooled) v = std::tanh(v);
  }
  const int64_t labels = static_cast<int64_t>(config_.labels.size());
  std::vector<float> logits(n * labels);
  if (absl::Status s = classifier_->Forward(pooled.data(), n, logits.data()); !s.ok())
    return s;
  std::vector<std::vector<float>> out(n);
  for (int64_t b = 0; b < n; ++b) {
    out[b].assign(logits.begin() + b * labels, logits.begin() + (b + 1) * labels);
  }
  return out;
}

}  // namespace heed::models
