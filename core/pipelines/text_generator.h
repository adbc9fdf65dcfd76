// Text in, text out for encoder-decoder models: the Translator (Marian) and
// the Summarizer (BART) are this class with a different model directory.
// Generate() serves one request start to finish; Prepare / Finish expose the
// steps around the model so that a scheduler can batch the decoding of many
// requests with generation::StepSearches.
#ifndef HEED_CORE_PIPELINES_TEXT_GENERATOR_H_
#define HEED_CORE_PIPELINES_TEXT_GENERATOR_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/generation/search.h"
#include "core/models/seq2seq_model.h"
#include "core/pipelines/text_tokenizer.h"

namespace heed::pipelines {

struct GenerationRequest {
  std::string text;
  std::optional<int> max_output_tokens;  // generated tokens, without the start token
  std::optional<int> min_output_tokens;
  std::optional<int> num_beams;
  std::optional<float> length_penalty;
  std::optional<int> no_repeat_ngram_size;
  int num_return_sequences = 1;
  std::optional<generation::SamplingOptions> sampling;
  bool truncate_input = false;
  bool return_alignment = false;
};

struct PreparedGeneration {
  std::vector<tokenizers::Token> source_tokens;
  std::vector<int32_t> source_ids;
  bool truncated = false;
  generation::GenerationParams params;
  generation::SearchOptions search;
};

struct GeneratedText {
  std::string text;
  float score = 0.0f;
  std::vector<tokenizers::Token> tokens;  // generated tokens (no start token)
  // [tokens.size()][source_tokens.size()] when alignment was asked for.
  std::vector<float> alignment;
};

struct GenerationResult {
  std::vector<GeneratedText> outputs;  // best first
  std::vector<tokenizers::Token> source_tokens;
  bool truncated = false;
  int output_tokens = 0;  // summed over outputs
};

class TextGenerator {
 public:
  static absl::StatusOr<std::unique_ptr<TextGenerator>> Load(
      const std::string& model_dir, ops::ComputeType compute_type);

  // Tokenizes and validates; request options override generation_config.json.
  absl::StatusOr<PreparedGeneration> Prepare(const GenerationRequest& request) const;
  absl::StatusOr<GenerationResult> Finish(
      const PreparedGeneration& prepared,
      std::shared_ptr<const models::EncoderOutput> encoder,
      const std::vector<generation::Hypothesis>& hypotheses, bool return_alignment) const;
  absl::StatusOr<GenerationResult> Generate(const GenerationRequest& request) const;

  // Text of generated ids (streaming deltas: decode the prefix, send the new part).
  std::string DecodeIds(std::span<const int> ids) const {
    return tokenizer_->Decode(ids);
  }

  const models::Seq2SeqModel& model() const { return *model_; }
  const io::ModelConfig& config() const { return model_->config(); }
  // The longest input accepted, in tokens including special tokens.
  int max_input_tokens() const { return config().max_position_embeddings; }

 private:
  TextGenerator() = default;

  std::unique_ptr<models::Seq2SeqModel> model_;
  std::unique_ptr<TextTokenizer> tokenizer_;
  io::GenerationDefaults defaults_;
};

}  // namespace heed::pipelines

#endif  // HEED_CORE_PIPELINES_TEXT_GENERATOR_H_
