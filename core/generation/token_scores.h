// Operations on one row of next-token scores shared by the searches.
#ifndef HEED_CORE_GENERATION_TOKEN_SCORES_H_
#define HEED_CORE_GENERATION_TOKEN_SCORES_H_

#include <random>
#include <span>

#include "core/generation/search.h"

namespace heed::generation {

void LogSoftmaxInPlace(std::span<float> row);

// Hugging Face's warpers in its order (temperature, top-k, top-p), then one
// draw from the softmax of what is left.
int SampleToken(std::span<float> scores, const SamplingOptions& options,
                std::mt19937_64& rng);

}  // namespace heed::generation

#endif  // HEED_CORE_GENERATION_TOKEN_SCORES_H_
