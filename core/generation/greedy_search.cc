#include "core/generation/greedy_search.h"

#include <algorithm>
#include <cmath>

#include "core/generation/logits_processors.h"

namespace heed::generation {

absl::StatusOr<GreedyResult> GreedySearch(const models::Seq2SeqModel& model,
                                          std::span<const int32_t> input_ids,
                                          const GenerationParams& params) {
  auto encoder = model.Encode(input_ids);
  if (!encoder.ok()) return encoder.status();
  models::DecoderState state = model.StartDecoding(*encoder);
  GreedyResult result;
  result.ids.push_back(params.decoder_start_token_id);
  std::vector<float> logits(model.vocab_size());
  models::DecoderState* states[1] = {&state};
  while (static_cast<int>(result.ids.size()) < params.max_length) {
    const int32_t token = result.ids.back();
    if (absl::Status s = model.Step(states, {&token, 1}, logits.data()); !s.ok()) return s;
    // log-softmax normalizer, for the sequence's log-probability
    const float max_logit = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float l : logits) sum += std::exp(l - max_logit);
    const float log_normalizer = max_logit + static_cast<float>(std::log(sum));
    std::vector<float> scores = logits;
    ApplyLogitsProcessors(params, result.ids, scores);
    const int next = static_cast<int>(std::max_element(scores.begin(), scores.end()) -
                                      scores.begin());
    result.log_probability += logits[next] - log_normalizer;
    result.ids.push_back(next);
    if (next == params.eos_token_id) break;
  }
  return result;
}

}  // namespace heed::generation
