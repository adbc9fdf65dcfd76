// Beam search with Hugging Face's semantics (BeamSearchScorer): log-softmax
// scores plus the logits processors; the best 2 x num_beams candidates each
// step; an EOS among the first num_beams candidates finishes a hypothesis
// scored sum_logprobs / length^length_penalty (length with the start token,
// without EOS); early_stopping true stops at num_beams finished hypotheses,
// false when no open beam can beat the worst finished one.
#ifndef HEED_CORE_GENERATION_BEAM_SEARCH_H_
#define HEED_CORE_GENERATION_BEAM_SEARCH_H_

#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/generation/generation_params.h"
#include "core/models/seq2seq_model.h"

namespace heed::generation {

struct BeamSearchOptions {
  int num_beams = 4;
  float length_penalty = 1.0f;
  bool early_stopping = false;
  int num_return_sequences = 1;  // at most num_beams
};

struct Hypothesis {
  std::vector<int> ids;  // start token first; EOS last if it finished
  float score = 0.0f;    // length-normalized log-probability
};

// Best first.
absl::StatusOr<std::vector<Hypothesis>> BeamSearch(const models::Seq2SeqModel& model,
                                                   std::span<const int32_t> input_ids,
                                                   const GenerationParams& params,
                                                   const BeamSearchOptions& options);

}  // namespace heed::generation

#endif  // HEED_CORE_GENERATION_BEAM_SEARCH_H_
