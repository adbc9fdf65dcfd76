// Text in, labels out for BERT / DistilBERT sequence classifiers: many texts
// per call, computed as one packed batch; label probabilities by softmax; and
// optional per-token attributions (the [CLS] token's attention in the last
// layer) for users who need to see what the model looked at.
#ifndef HEED_CORE_PIPELINES_SENTIMENT_CLASSIFIER_H_
#define HEED_CORE_PIPELINES_SENTIMENT_CLASSIFIER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/models/encoder_classifier.h"
#include "core/pipelines/text_tokenizer.h"

namespace heed::pipelines {

// What to do with a text longer than the model accepts.
enum class LongInput {
  kError,     // INVALID_ARGUMENT naming both lengths
  kTruncate,  // classify the first max_input_tokens tokens
  // Classify each sentence (a sentence over the model's length in
  // overlapping windows) in one batch and average their probabilities,
  // weighted by each one's tokens: the bundled model was trained on
  // sentences, and a window of several sentences reads to it like none.
  kChunks,
};

// "error", "truncate", "chunks" (config files, flags).
absl::StatusOr<LongInput> ParseLongInput(absl::string_view name);
const char* LongInputName(LongInput policy);

struct Classification {
  int label = 0;                          // index into labels()
  std::vector<float> probabilities;       // one per label, summing to 1
  std::vector<tokenizers::Token> tokens;  // the whole text (or what was kept)
  std::vector<float> attributions;        // one per token, when asked for
  bool truncated = false;
  // kChunks over a long text: [begin, end) ranges of `tokens` between its
  // first and last (special) tokens, one per sentence or window of a long
  // sentence; each is classified with those two tokens around it. Empty when
  // the text fits.
  std::vector<std::pair<int, int>> windows;
  // Model rows this text needs (its windows, or 1).
  int rows() const { return windows.empty() ? 1 : static_cast<int>(windows.size()); }
};

class SentimentClassifier {
 public:
  static absl::StatusOr<std::unique_ptr<SentimentClassifier>> Load(
      const std::string& model_dir, ops::ComputeType compute_type);

  // Longest text that kChunks classifies, in tokens; longer texts are
  // INVALID_ARGUMENT.
  static constexpr int kMaxChunkedTokens = 8192;
  // Rows (texts or windows) per model call: bounds activation memory.
  static constexpr int kMaxRowsPerCall = 64;

  // Tokenizes one text and applies `long_input` if it is over the limit.
  absl::StatusOr<Classification> Prepare(const std::string& text,
                                         LongInput long_input) const;
  // Classifies prepared texts together (model calls of at most
  // kMaxRowsPerCall rows), filling in label, probabilities and, if asked,
  // attributions.
  absl::Status Run(std::vector<Classification*> batch, bool attributions) const;
  absl::StatusOr<std::vector<Classification>> Classify(
      const std::vector<std::string>& texts, LongInput long_input,
      bool attributions) const;

  // The tokens the model would see, special tokens included, with no input
  // limit applied (the Tokenize RPC).
  std::vector<tokenizers::Token> Encode(const std::string& text) const {
    return tokenizer_->Encode(text);
  }

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
