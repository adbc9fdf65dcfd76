// config.json and generation_config.json parsing for each supported family,
// with the families' defaults and precise errors.
#include "core/io/model_config.h"

#include "gtest/gtest.h"

namespace heed::io {
namespace {

// Abridged from Helsinki-NLP/opus-mt-en-de's config.json.
constexpr char kMarian[] = R"({
  "architectures": ["MarianMTModel"], "model_type": "marian", "vocab_size": 58101,
  "d_model": 512, "encoder_layers": 6, "decoder_layers": 6,
  "encoder_attention_heads": 8, "decoder_attention_heads": 8,
  "encoder_ffn_dim": 2048, "decoder_ffn_dim": 2048, "activation_function": "swish",
  "max_position_embeddings": 512, "scale_embedding": true, "pad_token_id": 58100,
  "eos_token_id": 0, "decoder_start_token_id": 58100, "num_beams": 4, "max_length": 512,
  "bad_words_ids": [[58100]]})";

TEST(ModelConfigTest, Marian) {
  auto c = ParseModelConfig(kMarian, "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->family, ModelFamily::kMarian);
  EXPECT_EQ(c->architecture, "MarianMTModel");
  EXPECT_EQ(c->vocab_size, 58101);
  EXPECT_EQ(c->decoder_layers, 6);
  EXPECT_TRUE(c->scale_embedding);
  EXPECT_TRUE(c->sinusoidal_positions);
  EXPECT_FALSE(c->layernorm_embedding);
  EXPECT_EQ(c->activation, "swish");
  EXPECT_EQ(c->decoder_start_token_id, 58100);

  auto g = ParseGenerationDefaults(
      kMarian, "x",
      R"({"num_beams": 2, "max_length": 64, "encoder_repetition_penalty": 1.25})", "y");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->num_beams, 2);  // generation_config.json wins
  EXPECT_EQ(g->max_length, 64);
  EXPECT_FLOAT_EQ(g->encoder_repetition_penalty, 1.25f);
  EXPECT_FLOAT_EQ(g->repetition_penalty, 1.0f);
  ASSERT_EQ(g->bad_words_ids.size(), 1u);
  EXPECT_EQ(g->bad_words_ids[0], std::vector<int>{58100});
}

TEST(ModelConfigTest, BartDefaults) {
  auto c =
      ParseModelConfig(R"({"model_type": "bart", "vocab_size": 50264, "d_model": 1024,
      "encoder_layers": 12, "decoder_layers": 6, "encoder_attention_heads": 16,
      "decoder_attention_heads": 16, "encoder_ffn_dim": 4096, "decoder_ffn_dim": 4096,
      "forced_bos_token_id": 0})",
                       "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->family, ModelFamily::kBart);
  EXPECT_EQ(c->max_position_embeddings, 1024);
  EXPECT_EQ(c->activation, "gelu");
  EXPECT_TRUE(c->layernorm_embedding);
  EXPECT_FALSE(c->scale_embedding);
  EXPECT_EQ(c->eos_token_id, 2);
  EXPECT_EQ(c->pad_token_id, 1);
}

TEST(ModelConfigTest, BertAndDistilBertClassifiers) {
  auto bert = ParseModelConfig(R"({"model_type": "bert", "vocab_size": 30522,
      "id2label": {"1": "POSITIVE", "0": "NEGATIVE"}})",
                               "config.json");
  ASSERT_TRUE(bert.ok()) << bert.status();
  EXPECT_EQ(bert->d_model, 768);
  EXPECT_EQ(bert->layer_norm_eps, 1e-12f);
  EXPECT_EQ(bert->labels, (std::vector<std::string>{"NEGATIVE", "POSITIVE"}));

  auto distil = ParseModelConfig(R"({"model_type": "distilbert", "vocab_size": 30522,
      "dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072,
      "architectures": ["DistilBertForSequenceClassification"]})",
                                 "config.json");
  ASSERT_TRUE(distil.ok()) << distil.status();
  EXPECT_EQ(distil->family, ModelFamily::kDistilBert);
  EXPECT_EQ(distil->encoder_layers, 6);
  EXPECT_EQ(distil->decoder_layers, 0);
}

TEST(ModelConfigTest, PreciseErrors) {
  auto unknown = ParseModelConfig(R"({"model_type": "t5"})", "dir/config.json");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(unknown.status().message().find("\"t5\""), std::string::npos);
  EXPECT_NE(unknown.status().message().find("dir/config.json"), std::string::npos);

  auto wrong_type =
      ParseModelConfig(R"({"model_type": "bert", "vocab_size": "many"})", "c");
  EXPECT_NE(wrong_type.status().message().find("\"vocab_size\" must be"),
            std::string::npos);

  auto heads =
      ParseModelConfig(R"({"model_type": "bert", "vocab_size": 10, "hidden_size": 100,
      "num_attention_heads": 12})",
                       "c");
  EXPECT_NE(heads.status().message().find("multiple"), std::string::npos);

  auto act = ParseModelConfig(
      R"({"model_type": "bert", "vocab_size": 10, "hidden_act": "mish"})", "c");
  EXPECT_EQ(act.status().code(), absl::StatusCode::kUnimplemented);

  auto labels = ParseModelConfig(R"({"model_type": "bert", "vocab_size": 10,
      "id2label": {"0": "A", "5": "B"}})",
                                 "c");
  EXPECT_NE(labels.status().message().find("id2label"), std::string::npos);

  // Found by the config fuzzer: a missing head count divided by zero.
  auto no_heads = ParseModelConfig(
      R"({"model_type": "marian", "vocab_size": 10, "d_model": 8})", "c");
  EXPECT_EQ(no_heads.status().code(), absl::StatusCode::kInvalidArgument);

  EXPECT_NE(ParseModelConfig("{", "c").status().message().find("invalid JSON"),
            std::string::npos);
  auto bad_words = ParseGenerationDefaults(R"({"bad_words_ids": [[]]})", "c", "", "g");
  EXPECT_NE(bad_words.status().message().find("bad_words_ids"), std::string::npos);
  // Penalties divide scores: zero would make them infinite.
  for (const char* config :
       {R"({"repetition_penalty": 0})", R"({"encoder_repetition_penalty": -1})"}) {
    auto bad_penalty = ParseGenerationDefaults(config, "c", "", "g");
    EXPECT_EQ(bad_penalty.status().code(), absl::StatusCode::kInvalidArgument) << config;
    EXPECT_NE(bad_penalty.status().message().find("a positive number"),
              std::string::npos);
  }
  // A bad value in generation_config.json is reported against that file.
  auto bad_generation =
      ParseGenerationDefaults(R"({"num_beams": 2})", "dir/config.json",
                              R"({"num_beams": "many"})", "dir/generation_config.json");
  EXPECT_EQ(bad_generation.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_generation.status().message().find("dir/generation_config.json"),
            std::string::npos)
      << bad_generation.status();
  EXPECT_EQ(bad_generation.status().message().find("dir/config.json"), std::string::npos);
}

}  // namespace
}  // namespace heed::io
