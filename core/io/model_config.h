// The fields of a Hugging Face config.json (and generation_config.json) that
// heed's model families use, read into one struct with the families' defaults.
// Supported: Marian (MarianMTModel), BART (BartForConditionalGeneration), BERT
// and DistilBERT sequence classifiers. Anything else is an error naming it.
#ifndef HEED_CORE_IO_MODEL_CONFIG_H_
#define HEED_CORE_IO_MODEL_CONFIG_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace heed::io {

enum class ModelFamily { kMarian, kBart, kBert, kDistilBert };

struct ModelConfig {
  ModelFamily family = ModelFamily::kMarian;
  std::string model_type;    // config.json "model_type"
  std::string architecture;  // first of "architectures"
  int vocab_size = 0;
  int d_model = 0;
  int encoder_layers = 0;
  int decoder_layers = 0;  // 0 for encoder-only models
  int encoder_heads = 0;
  int decoder_heads = 0;
  int encoder_ffn_dim = 0;
  int decoder_ffn_dim = 0;
  int max_position_embeddings = 0;
  std::string activation;  // "gelu", "gelu_new", "relu", "swish"/"silu"
  float layer_norm_eps = 1e-5f;
  bool scale_embedding = false;       // multiply embeddings by sqrt(d_model)
  bool normalize_before = false;      // pre-layer-norm blocks (false: post-LN)
  bool layernorm_embedding = false;   // BART: layer norm after the embeddings
  bool sinusoidal_positions = false;  // Marian, or DistilBERT's option
  int type_vocab_size = 0;            // BERT token types
  int pad_token_id = -1;
  int bos_token_id = -1;
  int eos_token_id = -1;
  int decoder_start_token_id = -1;
  std::vector<std::string> labels;  // id2label in id order (classifiers)
};

// Defaults for generation, from config.json and generation_config.json (the
// latter wins); requests override them.
struct GenerationDefaults {
  int max_length = 256;
  int min_length = 0;
  int num_beams = 1;
  float length_penalty = 1.0f;
  bool early_stopping = false;
  int no_repeat_ngram_size = 0;
  int no_adjacent_repeat_ngram_size = 0;  // heed's own key
  float repetition_penalty = 1.0f;
  float encoder_repetition_penalty = 1.0f;
  std::optional<int> forced_bos_token_id;
  std::optional<int> forced_eos_token_id;
  std::vector<std::vector<int>> bad_words_ids;
};

absl::StatusOr<ModelConfig> ParseModelConfig(absl::string_view config_json,
                                             absl::string_view source);
// `generation_json` may be empty (no generation_config.json). Errors name
// the file (config_source or generation_source) that holds the bad value.
absl::StatusOr<GenerationDefaults> ParseGenerationDefaults(
    absl::string_view config_json, absl::string_view config_source,
    absl::string_view generation_json, absl::string_view generation_source);

// Reads <model_dir>/config.json.
absl::StatusOr<ModelConfig> ReadModelConfig(const std::string& model_dir);
absl::StatusOr<GenerationDefaults> ReadGenerationDefaults(const std::string& model_dir);

absl::string_view ModelFamilyName(ModelFamily family);

}  // namespace heed::io

#endif  // HEED_CORE_IO_MODEL_CONFIG_H_
