#include "core/io/model_config.h"

#include <filesystem>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"

namespace heed::io {
namespace {

using Json = nlohmann::json;

// Typed field access that never throws: a missing field takes the default; a
// field of the wrong type or out of range is an error naming it.
class Fields {
 public:
  Fields(const Json& json, absl::string_view source) : json_(json), source_(source) {}

  absl::Status status() const { return status_; }

  int Int(const char* key, int fallback, int min = 0, int max = 1 << 24) {
    if (!json_.contains(key) || json_[key].is_null()) return fallback;
    const Json& v = json_[key];
    if (!v.is_number_integer()) return Fail(key, "an integer"), fallback;
    const int64_t value = v.get<int64_t>();
    if (value < min || value > max) {
      return Fail(key, absl::StrCat("between ", min, " and ", max)), fallback;
    }
    return static_cast<int>(value);
  }
  float Float(const char* key, float fallback) {
    if (!json_.contains(key) || json_[key].is_null()) return fallback;
    if (!json_[key].is_number()) return Fail(key, "a number"), fallback;
    return json_[key].get<float>();
  }
  bool Bool(const char* key, bool fallback) {
    if (!json_.contains(key) || json_[key].is_null()) return fallback;
    if (!json_[key].is_boolean()) return Fail(key, "true or false"), fallback;
    return json_[key].get<bool>();
  }
  std::string String(const char* key, const std::string& fallback) {
    if (!json_.contains(key) || json_[key].is_null()) return fallback;
    if (!json_[key].is_string()) return Fail(key, "a string"), fallback;
    return json_[key].get<std::string>();
  }
  std::optional<int> OptionalInt(const char* key) {
    if (!json_.contains(key) || json_[key].is_null()) return std::nullopt;
    return Int(key, 0, 0, 1 << 24);
  }
  void Fail(absl::string_view key, absl::string_view expected) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat(source_, ": field \"", key, "\" must be ", expected));
    }
  }

 private:
  const Json& json_;
  std::string source_;
  absl::Status status_;
};

absl::StatusOr<Json> ParseObject(absl::string_view text, absl::string_view source) {
  absl::StatusOr<Json> json = ParseJson(text, source);
  if (!json.ok()) return json.status();
  if (!json->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a JSON object"));
  }
  return json;
}

absl::Status ReadLabels(const Json& json, absl::string_view source, ModelConfig& config) {
  if (!json.contains("id2label")) return absl::OkStatus();
  const Json& map = json["id2label"];
  if (!map.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": id2label must be an object"));
  }
  std::map<int, std::string> labels;
  for (const auto& [key, value] : map.items()) {
    int id;
    if (!absl::SimpleAtoi(key, &id) || id < 0 || id >= static_cast<int>(map.size()) ||
        !value.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": id2label needs ids 0..n-1 mapped to names, got \"", key, "\""));
    }
    labels[id] = value.get<std::string>();
  }
  for (auto& [id, name] : labels) config.labels.push_back(name);
  return absl::OkStatus();
}

}  // namespace

absl::string_view ModelFamilyName(ModelFamily family) {
  switch (family) {
    case ModelFamily::kMarian:
      return "marian";
    case ModelFamily::kBart:
      return "bart";
    case ModelFamily::kBert:
      return "bert";
    case ModelFamily::kDistilBert:
      return "distilbert";
  }
  return "unknown";
}

absl::StatusOr<ModelConfig> ParseModelConfig(absl::string_view config_json,
                                             absl::string_view source) {
  absl::StatusOr<Json> parsed = ParseObject(config_json, source);
  if (!parsed.ok()) return parsed.status();
  const Json& json = *parsed;
  Fields f(json, source);
  ModelConfig c;
  c.model_type = f.String("model_type", "");
  if (json.contains("architectures") && json["architectures"].is_array() &&
      !json["architectures"].empty() && json["architectures"][0].is_string()) {
    c.architecture = json["architectures"][0].get<std::string>();
  }
  if (c.model_type == "marian" || c.model_type == "bart") {
    const bool marian = c.model_type == "marian";
    c.family = marian ? ModelFamily::kMarian : ModelFamily::kBart;
    c.vocab_size = f.Int("vocab_size", 0, 1);
    c.d_model = f.Int("d_model", 0, 1);
    c.encoder_layers = f.Int("encoder_layers", 0, 1, 256);
    c.decoder_layers = f.Int("decoder_layers", 0, 1, 256);
    c.encoder_heads = f.Int("encoder_attention_heads", 0, 1, 1024);
    c.decoder_heads = f.Int("decoder_attention_heads", 0, 1, 1024);
    c.encoder_ffn_dim = f.Int("encoder_ffn_dim", 0, 1);
    c.decoder_ffn_dim = f.Int("decoder_ffn_dim", 0, 1);
    c.max_position_embeddings = f.Int("max_position_embeddings", marian ? 512 : 1024, 1);
    c.activation = f.String("activation_function", marian ? "swish" : "gelu");
    c.scale_embedding = f.Bool("scale_embedding", marian);
    c.normalize_before = f.Bool("normalize_before", false);
    c.layernorm_embedding = !marian;
    c.sinusoidal_positions = marian;
    c.pad_token_id = f.Int("pad_token_id", marian ? 58100 : 1);
    c.bos_token_id = f.Int("bos_token_id", 0);
    c.eos_token_id = f.Int("eos_token_id", marian ? 0 : 2);
    c.decoder_start_token_id =
        f.Int("decoder_start_token_id", marian ? c.pad_token_id : 2);
    if (marian && json.contains("decoder_vocab_size") &&
        !json["decoder_vocab_size"].is_null() &&
        f.Int("decoder_vocab_size", c.vocab_size) != c.vocab_size) {
      return absl::UnimplementedError(
          absl::StrCat(source,
                       ": separate source and target vocabularies (decoder_vocab_size != "
                       "vocab_size) are not supported"));
    }
  } else if (c.model_type == "bert") {
    c.family = ModelFamily::kBert;
    c.vocab_size = f.Int("vocab_size", 0, 1);
    c.d_model = f.Int("hidden_size", 768, 1);
    c.encoder_layers = f.Int("num_hidden_layers", 12, 1, 256);
    c.encoder_heads = f.Int("num_attention_heads", 12, 1, 1024);
    c.encoder_ffn_dim = f.Int("intermediate_size", 3072, 1);
    c.max_position_embeddings = f.Int("max_position_embeddings", 512, 1);
    c.activation = f.String("hidden_act", "gelu");
    c.layer_norm_eps = f.Float("layer_norm_eps", 1e-12f);
    c.type_vocab_size = f.Int("type_vocab_size", 2, 1);
    c.pad_token_id = f.Int("pad_token_id", 0);
    const std::string position = f.String("position_embedding_type", "absolute");
    if (position != "absolute") {
      return absl::UnimplementedError(absl::StrCat(source, ": position_embedding_type \"",
                                                   position, "\" is not supported"));
    }
  } else if (c.model_type == "distilbert") {
    c.family = ModelFamily::kDistilBert;
    c.vocab_size = f.Int("vocab_size", 0, 1);
    c.d_model = f.Int("dim", 768, 1);
    c.encoder_layers = f.Int("n_layers", 6, 1, 256);
    c.encoder_heads = f.Int("n_heads", 12, 1, 1024);
    c.encoder_ffn_dim = f.Int("hidden_dim", 3072, 1);
    c.max_position_embeddings = f.Int("max_position_embeddings", 512, 1);
    c.activation = f.String("activation", "gelu");
    c.layer_norm_eps = 1e-12f;  // fixed in DistilBERT's modeling code
    c.sinusoidal_positions = f.Bool("sinusoidal_pos_embds", false);
    c.pad_token_id = f.Int("pad_token_id", 0);
  } else {
    return absl::UnimplementedError(absl::StrCat(
        source, ": model_type \"", c.model_type,
        "\" is not supported (heed serves marian, bart, bert and distilbert)"));
  }
  if (!f.status().ok()) return f.status();
  // Required fields that have no family default arrive as 0.
  if (c.vocab_size <= 0 || c.d_model <= 0 || c.encoder_layers <= 0 ||
      c.encoder_heads <= 0 || c.encoder_ffn_dim <= 0 ||
      ((c.family == ModelFamily::kMarian || c.family == ModelFamily::kBart) &&
       (c.decoder_layers <= 0 || c.decoder_heads <= 0 || c.decoder_ffn_dim <= 0))) {
    return absl::InvalidArgumentError(absl::StrCat(
        source,
        ": vocab size, width, layers, attention heads and feed-forward size must all "
        "be given and positive"));
  }
  if (c.d_model % c.encoder_heads != 0 ||
      (c.decoder_layers > 0 && c.d_model % c.decoder_heads != 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": the model width ", c.d_model,
                     " is not a multiple of the number of attention heads"));
  }
  static const char* const kActivations[] = {"gelu", "gelu_new", "gelu_pytorch_tanh",
                                             "relu", "swish",    "silu"};
  if (std::find(std::begin(kActivations), std::end(kActivations), c.activation) ==
      std::end(kActivations)) {
    return absl::UnimplementedError(
        absl::StrCat(source, ": activation \"", c.activation, "\" is not supported"));
  }
  if (absl::Status s = ReadLabels(json, source, c); !s.ok()) return s;
  return c;
}

absl::StatusOr<GenerationDefaults> ParseGenerationDefaults(
    absl::string_view config_json, absl::string_view config_source,
    absl::string_view generation_json, absl::string_view generation_source) {
  GenerationDefaults g;
  std::vector<std::pair<absl::string_view, absl::string_view>> files = {
      {config_json, config_source}};
  if (!generation_json.empty()) files.emplace_back(generation_json, generation_source);
  // generation_config.json last: it wins.
  for (const auto& [text, source] : files) {
    absl::StatusOr<Json> parsed = ParseObject(text, source);
    if (!parsed.ok()) return parsed.status();
    Fields f(*parsed, source);
    g.max_length = f.Int("max_length", g.max_length, 1, 1 << 16);
    g.min_length = f.Int("min_length", g.min_length, 0, 1 << 16);
    g.num_beams = f.Int("num_beams", g.num_beams, 1, 64);
    g.length_penalty = f.Float("length_penalty", g.length_penalty);
    g.early_stopping = f.Bool("early_stopping", g.early_stopping);
    g.no_repeat_ngram_size = f.Int("no_repeat_ngram_size", g.no_repeat_ngram_size, 0, 64);
    g.no_adjacent_repeat_ngram_size =
        f.Int("no_adjacent_repeat_ngram_size", g.no_adjacent_repeat_ngram_size, 0, 64);
    g.repetition_penalty = f.Float("repetition_penalty", g.repetition_penalty);
    g.encoder_repetition_penalty =
        f.Float("encoder_repetition_penalty", g.encoder_repetition_penalty);
    // Both divide scores: zero or a negative value would turn them to
    // infinities or flip their order.
    if (!(g.repetition_penalty > 0)) f.Fail("repetition_penalty", "a positive number");
    if (!(g.encoder_repetition_penalty > 0)) {
      f.Fail("encoder_repetition_penalty", "a positive number");
    }
    if (auto v = f.OptionalInt("forced_bos_token_id")) g.forced_bos_token_id = v;
    if (auto v = f.OptionalInt("forced_eos_token_id")) g.forced_eos_token_id = v;
    if (parsed->contains("bad_words_ids") && !(*parsed)["bad_words_ids"].is_null()) {
      g.bad_words_ids.clear();
      const Json& bad = (*parsed)["bad_words_ids"];
      bool valid = bad.is_array();
      for (const auto& seq : bad) {
        if (!valid) break;
        std::vector<int> ids;
        valid = seq.is_array() && !seq.empty();
        for (const auto& id : seq) {
          if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
              id.get<int64_t>() > (1 << 24)) {
            valid = false;
            break;
          }
          ids.push_back(id.get<int>());
        }
        g.bad_words_ids.push_back(std::move(ids));
      }
      if (!valid) f.Fail("bad_words_ids", "a list of non-empty lists of token ids");
    }
    if (!f.status().ok()) return f.status();
  }
  return g;
}

absl::StatusOr<ModelConfig> ReadModelConfig(const std::string& model_dir) {
  const std::string path = (std::filesystem::path(model_dir) / "config.json").string();
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseModelConfig(*text, path);
}

absl::StatusOr<GenerationDefaults> ReadGenerationDefaults(const std::string& model_dir) {
  const std::filesystem::path dir(model_dir);
  const std::string config_path = (dir / "config.json").string();
  absl::StatusOr<std::string> config = ReadFile(config_path);
  if (!config.ok()) return config.status();
  std::string generation;
  const std::filesystem::path generation_path = dir / "generation_config.json";
  std::error_code ec;
  if (std::filesystem::exists(generation_path, ec)) {
    absl::StatusOr<std::string> text = ReadFile(generation_path.string());
    if (!text.ok()) return text.status();
    generation = std::move(*text);
  }
  return ParseGenerationDefaults(*config, config_path, generation,
                                 generation_path.string());
}

}  // namespace heed::io
