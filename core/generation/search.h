// Step-wise text generation, so that a scheduler can batch requests that
// started at different times (continuous batching): each request is a Search
// that names the decoder states and tokens it wants fed this step, and
// consumes the logits that come back. StepSearches feeds any number of
// searches with one model call; RunToEnd runs one search to the end.
//
// Greedy search, beam search and sampling follow Hugging Face's semantics:
// logits processors, then (sampling) temperature, top-k and top-p warpers.
#ifndef HEED_CORE_GENERATION_SEARCH_H_
#define HEED_CORE_GENERATION_SEARCH_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/generation/generation_params.h"
#include "core/models/seq2seq_model.h"

namespace heed::generation {

struct SamplingOptions {
  float temperature = 1.0f;  // > 0
  int top_k = 0;             // 0: no top-k filter
  float top_p = 1.0f;        // (0, 1]; 1: no nucleus filter
  uint64_t seed = 0;
};

struct SearchOptions {
  int num_beams = 1;
  float length_penalty = 1.0f;
  bool early_stopping = false;
  int num_return_sequences = 1;             // <= num_beams for beam search
  std::optional<SamplingOptions> sampling;  // with num_beams == 1
};

struct Hypothesis {
  std::vector<int> ids;  // decoder start token first; EOS last if it finished
  // Beam search: length-normalized log-probability; greedy and sampling: the
  // sum of the chosen tokens' log-probabilities.
  float score = 0.0f;
};

class Search {
 public:
  virtual ~Search() = default;
  virtual bool done() const = 0;
  // Appends the decoder states and tokens to feed this step.
  virtual void Inputs(std::vector<models::DecoderState*>* states,
                      std::vector<int32_t>* tokens) = 0;
  // Consumes the logits of those inputs (rows in the same order).
  virtual void Advance(std::span<const float> logits, int vocab) = 0;
  // Best first; valid once done().
  virtual std::vector<Hypothesis> Results() = 0;
  // Tokens of the leading hypothesis that are final (streaming): greedy and
  // sampling finalize every token; beam search only at the end.
  virtual std::vector<int> FinalTokens() const = 0;
  // Seconds Advance spent copying key/value caches (beam search copies a
  // parent's caches when it continues as more than one beam).
  virtual double kv_copy_seconds() const { return 0; }
};

// Where the decoding steps' time went, for benchmarks: the model call, and
// the searches' own work (scores, top-k, bookkeeping, cache copies).
struct StepProfile {
  int64_t steps = 0;
  int64_t rows = 0;  // decoder rows fed, summed over steps
  double model_seconds = 0;
  double search_seconds = 0;
};

absl::StatusOr<std::unique_ptr<Search>> StartSearch(
    const models::Seq2SeqModel& model,
    std::shared_ptr<const models::EncoderOutput> encoder, const GenerationParams& params,
    const SearchOptions& options);

// One decoding step for every search that is not done, in one model call.
absl::Status StepSearches(const models::Seq2SeqModel& model,
                          std::span<Search* const> searches,
                          StepProfile* profile = nullptr);

// Steps the searches together until every one is done: the one generation
// loop of the code base (Generate, TextGenerator::Generate and the benchmarks
// run through it; a scheduler calls StepSearches itself, to let searches join
// and leave between steps).
absl::Status RunToEnd(const models::Seq2SeqModel& model,
                      std::span<Search* const> searches, StepProfile* profile = nullptr);

// Encodes, then steps one search until it is done.
absl::StatusOr<std::vector<Hypothesis>> Generate(const models::Seq2SeqModel& model,
                                                 std::span<const int32_t> input_ids,
                                                 const GenerationParams& params,
                                                 const SearchOptions& options);

}  // namespace heed::generation

#endif  // HEED_CORE_GENERATION_SEARCH_H_
