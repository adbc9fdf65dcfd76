// What a generation request asks for, in Hugging Face's terms: defaults come
// from the model's generation_config.json, request options override them.
#ifndef HEED_CORE_GENERATION_GENERATION_PARAMS_H_
#define HEED_CORE_GENERATION_GENERATION_PARAMS_H_

#include <optional>
#include <vector>

#include "core/io/model_config.h"

namespace heed::generation {

struct GenerationParams {
  int decoder_start_token_id = 0;
  int eos_token_id = 0;
  // Lengths count the decoder start token, as Hugging Face's max_length does.
  int max_length = 256;
  int min_length = 0;
  int no_repeat_ngram_size = 0;
  // heed's own: no n-gram of up to this many tokens may follow itself
  // directly ("disk disk", "oc oc" in "Geocococoding"), the back-to-back
  // stutter that no_repeat_ngram_size only catches from the third copy on.
  // Generated tokens only (not the decoder start token); 0: off.
  int no_adjacent_repeat_ngram_size = 0;
  // Hugging Face's repetition_penalty: every token already in the sequence
  // has its score divided by it where positive, multiplied where negative
  // (1: off). Greedy and sampling apply it to the logits, beam search to the
  // log-probabilities, as Hugging Face does.
  float repetition_penalty = 1.0f;
  // Hugging Face's encoder_repetition_penalty: the reverse for the tokens of
  // the encoder's input (`encoder_input_ids`), whose scores are multiplied by
  // it where positive and divided where negative, so values above 1 favour
  // copying from the source (1: off). Applied before repetition_penalty.
  float encoder_repetition_penalty = 1.0f;
  std::vector<int> encoder_input_ids;
  std::vector<std::vector<int>> bad_words_ids;
  std::optional<int> forced_bos_token_id;
  std::optional<int> forced_eos_token_id;
};

GenerationParams ParamsFromModel(const io::ModelConfig& config,
                                 const io::GenerationDefaults& defaults);

}  // namespace heed::generation

#endif  // HEED_CORE_GENERATION_GENERATION_PARAMS_H_
