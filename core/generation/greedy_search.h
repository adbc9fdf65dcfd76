// Greedy decoding of one input with Hugging Face's semantics: start from the
// decoder start token, apply the logits processors, take the best token, stop
// at EOS or max_length (which counts the start token).
#ifndef HEED_CORE_GENERATION_GREEDY_SEARCH_H_
#define HEED_CORE_GENERATION_GREEDY_SEARCH_H_

#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/generation/generation_params.h"
#include "core/models/seq2seq_model.h"

namespace heed::generation {

struct GreedyResult {
  std::vector<int> ids;  // starts with the decoder start token
  float log_probability = 0.0f;  // sum over generated tokens (unprocessed scores)
};

absl::StatusOr<GreedyResult> GreedySearch(const models::Seq2SeqModel& model,
                                          std::span<const int32_t> input_ids,
                                          const GenerationParams& params);

}  // namespace heed::generation

#endif  // HEED_CORE_GENERATION_GREEDY_SEARCH_H_
