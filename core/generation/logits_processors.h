// Hugging Face's logits processors, applied in its order to the scores of the
// next token: minimum length (no EOS yet), no-repeat n-grams (and heed's
// no-adjacent-repeat n-grams), bad words,
// forced BOS after the start token, forced EOS at the last position.
// Forbidden tokens get -infinity.
#ifndef HEED_CORE_GENERATION_LOGITS_PROCESSORS_H_
#define HEED_CORE_GENERATION_LOGITS_PROCESSORS_H_

#include <span>

#include "core/generation/generation_params.h"

namespace heed::generation {

// Hugging Face's repetition_penalty over the tokens of `sequence` (see
// GenerationParams); the caller picks logits or log-probabilities.
void ApplyRepetitionPenalty(float penalty, std::span<const int> sequence,
                            std::span<float> scores);

// encoder_repetition_penalty over params.encoder_input_ids, then
// repetition_penalty over `sequence`, in Hugging Face's order.
void ApplyRepetitionPenalties(const GenerationParams& params,
                              std::span<const int> sequence, std::span<float> scores);

// `sequence` is everything generated so far, starting with the decoder start token.
void ApplyLogitsProcessors(const GenerationParams& params, std::span<const int> sequence,
                           std::span<float> scores);

}  // namespace heed::generation

#endif  // HEED_CORE_GENERATION_LOGITS_PROCESSORS_H_
