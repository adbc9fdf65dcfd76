// Text in, text out for encoder-decoder models: the Translator (Marian) and
// the Summarizer (BART) are this class with a different model directory.
// Generate() serves one request start to finish. The step API serves many at
// once, as a scheduler does with continuous batching: Prepare (tokenize and
// validate, on the caller's thread), Start (encode and begin the search: a
// GenerationJob), Step (one decoding step of any number of jobs in one model
// call), Finish (the job's result). Generate is Prepare, Start, steps to the
// end and Finish.
#ifndef HEED_CORE_PIPELINES_TEXT_GENERATOR_H_
#define HEED_CORE_PIPELINES_TEXT_GENERATOR_H_

#include <functional>
#include <memory>
#include <optional>
#include <span>
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
  std::optional<int> no_adjacent_repeat_ngram_size;
  std::optional<float> repetition_penalty;
  std::optional<float> encoder_repetition_penalty;
  int num_return_sequences = 1;
  std::optional<generation::SamplingOptions> sampling;
  bool truncate_input = false;
  bool return_alignment = false;
};

struct PreparedGeneration {
  // Until Tokenize (or Prepare) ran: the text, and whether to cut it.
  std::string text;
  bool truncate_input = false;
  bool tokenized = false;
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

// One request's generation in progress: its encoder output and search. Made
// by TextGenerator::Start, advanced by Step, consumed by Finish; driven by one
// thread at a time.
class GenerationJob {
 public:
  const PreparedGeneration& prepared() const { return prepared_; }
  bool done() const { return search_->done(); }
  // Tokens of the leading hypothesis that are final (for streaming): greedy
  // and sampling finalize every token, beam search only at the end.
  std::vector<int> FinalTokens() const { return search_->FinalTokens(); }

 private:
  friend class TextGenerator;
  PreparedGeneration prepared_;
  bool return_alignment_ = false;
  std::shared_ptr<const models::EncoderOutput> encoder_;
  std::unique_ptr<generation::Search> search_;
};

class TextGenerator {
 public:
  static absl::StatusOr<std::unique_ptr<TextGenerator>> Load(
      const std::string& model_dir, ops::ComputeType compute_type);

  // Tokenizes and validates; request options override generation_config.json.
  absl::StatusOr<PreparedGeneration> Prepare(const GenerationRequest& request) const;
  // The cheap half of Prepare: validates the options and resolves the
  // generation parameters without tokenizing (a server calls it on its
  // network threads and tokenizes on the compute side).
  absl::StatusOr<PreparedGeneration> PrepareOptions(
      const GenerationRequest& request) const;
  // The other half: tokenizes the text and applies the input limit.
  absl::Status Tokenize(PreparedGeneration* prepared) const;
  // Encodes the source (tokenizing it first if needed) and starts the search.
  absl::StatusOr<std::unique_ptr<GenerationJob>> Start(PreparedGeneration prepared,
                                                       bool return_alignment) const;
  // Start for several requests with one encoder pass over all their sources
  // (Seq2SeqModel::EncodeBatch): one job, or the request's error, per
  // request in order. `return_alignment` has one flag per request.
  std::vector<absl::StatusOr<std::unique_ptr<GenerationJob>>> StartBatch(
      std::vector<PreparedGeneration> prepared,
      const std::vector<bool>& return_alignment) const;
  // One decoding step of every job that is not done, in one model call.
  absl::Status Step(std::span<GenerationJob* const> jobs) const;
  // The result of a done job: texts, token offsets, scores and (if asked)
  // alignments. Frees the job's encoder output and caches. Alignments re-run
  // the decoder over the outputs (all together, one step per position);
  // `between_steps` runs before each of those steps and may stop the work
  // with an error (a deadline, a cancellation), which Finish returns.
  absl::StatusOr<GenerationResult> Finish(
      GenerationJob& job,
      const std::function<absl::Status()>& between_steps = nullptr) const;
  absl::StatusOr<GenerationResult> Generate(const GenerationRequest& request) const;

  // The source tokens the model would see, special tokens included, with no
  // input limit applied (the Tokenize RPC).
  std::vector<tokenizers::Token> EncodeSource(const std::string& text) const {
    return tokenizer_->Encode(text);
  }

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
  absl::StatusOr<GenerationResult> BuildResult(
      const PreparedGeneration& prepared,
      std::shared_ptr<const models::EncoderOutput> encoder,
      const std::vector<generation::Hypothesis>& hypotheses, bool return_alignment,
      const std::function<absl::Status()>& between_steps) const;

  std::unique_ptr<models::Seq2SeqModel> model_;
  std::unique_ptr<TextTokenizer> tokenizer_;
  io::GenerationDefaults defaults_;
};

}  // namespace heed::pipelines

#endif  // HEED_CORE_PIPELINES_TEXT_GENERATOR_H_
