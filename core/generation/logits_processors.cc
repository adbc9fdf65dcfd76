#include "core/generation/logits_processors.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace heed::generation {
namespace {

constexpr float kForbidden = -INFINITY;

void Force(std::span<float> scores, int token) {
  std::fill(scores.begin(), scores.end(), kForbidden);
  if (token >= 0 && token < static_cast<int>(scores.size())) scores[token] = 0.0f;
}

void Forbid(std::span<float> scores, int token) {
  if (token >= 0 && token < static_cast<int>(scores.size())) scores[token] = kForbidden;
}

}  // namespace

GenerationParams ParamsFromModel(const io::ModelConfig& config,
                                 const io::GenerationDefaults& defaults) {
  GenerationParams p;
  p.decoder_start_token_id = config.decoder_start_token_id;
  p.eos_token_id = config.eos_token_id;
  p.max_length = defaults.max_length;
  p.min_length = defaults.min_length;
  p.no_repeat_ngram_size = defaults.no_repeat_ngram_size;
  p.no_adjacent_repeat_ngram_size = defaults.no_adjacent_repeat_ngram_size;
  p.repetition_penalty = defaults.repetition_penalty;
  p.encoder_repetition_penalty = defaults.encoder_repetition_penalty;
  p.bad_words_ids = defaults.bad_words_ids;
  p.forced_bos_token_id = defaults.forced_bos_token_id;
  p.forced_eos_token_id = defaults.forced_eos_token_id;
  return p;
}

void ApplyRepetitionPenalty(float penalty, std::span<const int> sequence,
                            std::span<float> scores) {
  if (penalty == 1.0f) return;
  const int vocab = static_cast<int>(scores.size());
  // Each distinct token once. The marks are kept per thread and cleared token
  // by token afterwards, so a call costs O(sequence), not an allocation and
  // a clear of the vocabulary per beam per step.
  thread_local std::vector<unsigned char> seen;
  if (seen.size() < scores.size()) seen.resize(scores.size(), 0);
  for (int token : sequence) {
    if (token < 0 || token >= vocab || seen[token]) continue;
    seen[token] = 1;
    float& v = scores[token];
    v = v < 0 ? v * penalty : v / penalty;
  }
  for (int token : sequence) {
    if (token >= 0 && token < vocab) seen[token] = 0;
  }
}

void ApplyRepetitionPenalties(const GenerationParams& params,
                              std::span<const int> sequence, std::span<float> scores) {
  if (params.encoder_repetition_penalty != 1.0f) {
    // Hugging Face applies the repetition transform with the inverse penalty.
    ApplyRepetitionPenalty(1.0f / params.encoder_repetition_penalty,
                           params.encoder_input_ids, scores);
  }
  ApplyRepetitionPenalty(params.repetition_penalty, sequence, scores);
}

void ApplyLogitsProcessors(const GenerationParams& params, std::span<const int> sequence,
                           std::span<float> scores) {
  const int length = static_cast<int>(sequence.size());
  if (length < params.min_length) Forbid(scores, params.eos_token_id);
  const int n = params.no_repeat_ngram_size;
  if (n > 0 && length + 1 >= n) {
    // Any token that would complete an n-gram already present is forbidden.
    const auto prefix = sequence.subspan(length - n + 1);
    for (int i = 0; i + n - 1 < length; ++i) {
      if (std::equal(prefix.begin(), prefix.end(), sequence.begin() + i)) {
        Forbid(scores, sequence[i + n - 1]);
      }
    }
  }
  // Token t would end the sequence with an n-gram twice in a row when the
  // last n - 1 tokens repeat the n - 1 before the one n back, and t is that one.
  const int generated = length - 1;  // after the decoder start token
  for (int m = 1; m <= params.no_adjacent_repeat_ngram_size && 2 * m - 1 <= generated;
       ++m) {
    if (std::equal(sequence.end() - (m - 1), sequence.end(),
                   sequence.end() - (2 * m - 1))) {
      Forbid(scores, sequence[length - m]);
    }
  }
  for (const std::vector<int>& words : params.bad_words_ids) {
    const size_t before = words.size() - 1;
    if (before <= sequence.size() &&
        std::equal(words.begin(), words.end() - 1, sequence.end() - before)) {
      Forbid(scores, words.back());
    }
  }
  if (params.forced_bos_token_id && length == 1)
    Force(scores, *params.forced_bos_token_id);
  if (params.forced_eos_token_id && length == params.max_length - 1) {
    Force(scores, *params.forced_eos_token_id);
  }
}

}  // namespace heed::generation
