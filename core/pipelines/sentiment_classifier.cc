#include "core/pipelines/sentiment_classifier.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "core/pipelines/input_limit.h"

namespace heed::pipelines {

absl::StatusOr<std::unique_ptr<SentimentClassifier>> SentimentClassifier::Load(
    const std::string& model_dir, ops::ComputeType compute_type) {
  std::unique_ptr<SentimentClassifier> c(new SentimentClassifier);
  auto model = models::EncoderClassifier::Load(model_dir, compute_type);
  if (!model.ok()) return model.status();
  c->model_ = std::move(*model);
  auto tokenizer = LoadTokenizer(model_dir, c->model_->config());
  if (!tokenizer.ok()) return tokenizer.status();
  c->tokenizer_ = std::move(*tokenizer);
  return c;
}

absl::StatusOr<Classification> SentimentClassifier::Prepare(const std::string& text,
                                                            bool truncate) const {
  if (text.empty()) return absl::InvalidArgumentError("text must not be empty");
  Classification c;
  c.tokens = tokenizer_->Encode(text);
  if (absl::Status s =
          FitInputLimit(&c.tokens, max_input_tokens(), truncate, &c.truncated);
      !s.ok()) {
    return s;
  }
  return c;
}

absl::Status SentimentClassifier::Run(std::vector<Classification*> batch,
                                      bool attributions) const {
  std::vector<std::vector<int32_t>> ids;
  for (const Classification* c : batch) {
    ids.emplace_back();
    for (const auto& t : c->tokens) ids.back().push_back(t.id);
  }
  std::vector<std::vector<float>> attention;
  auto logits = model_->Classify(ids, attributions ? &attention : nullptr);
  if (!logits.ok()) return logits.status();
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::vector<float>& row = (*logits)[i];
    const float max_logit = *std::max_element(row.begin(), row.end());
    double sum = 0;
    for (float v : row) sum += std::exp(v - max_logit);
    batch[i]->probabilities.clear();
    for (float v : row) {
      batch[i]->probabilities.push_back(
          static_cast<float>(std::exp(v - max_logit) / sum));
    }
    batch[i]->label =
        static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
    if (attributions) batch[i]->attributions = std::move(attention[i]);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Classification>> SentimentClassifier::Classify(
    const std::vector<std::string>& texts, bool truncate, bool attributions) const {
  std::vector<Classification> out;
  for (const std::string& text : texts) {
    auto c = Prepare(text, truncate);
    if (!c.ok()) return c.status();
    out.push_back(std::move(*c));
  }
  std::vector<Classification*> batch;
  for (Classification& c : out) batch.push_back(&c);
  if (absl::Status s = Run(batch, attributions); !s.ok()) return s;
  return out;
}

}  // namespace heed::pipelines
