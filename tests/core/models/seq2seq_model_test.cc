// Marian and BART against the PyTorch reference (tools/reference/models.py)
// through golden vectors of tiny random models in Hub layout: tokenization,
// encoder outputs and the first decoder steps' logits within 1e-4 (f32), and
// identical greedy outputs under the models' generation_config.json.
#include "core/models/seq2seq_model.h"

#include <cmath>
#include <cstdio>

#include "core/generation/search.h"
#include "core/io/json_file.h"
#include "core/ops/compute_type.h"
#include "core/ops/onednn_engine.h"
#include "core/tokenizers/byte_level_bpe_tokenizer.h"
#include "core/tokenizers/sentencepiece_tokenizer.h"
#include "gtest/gtest.h"

namespace heed::models {
namespace {

struct Case {
  std::string text;
  std::vector<int32_t> ids;
  std::vector<float> encoder_output;
  std::vector<int> greedy_ids;
  std::vector<std::vector<float>> step_logits;
  nlohmann::json beam;  // "beams_penalty_early" -> [{score, ids}]
};

std::vector<Case> ReadCases(const std::string& dir) {
  auto json = io::ReadJsonFile(dir + "/golden.json");
  EXPECT_TRUE(json.ok()) << json.status();
  std::vector<Case> cases;
  if (!json.ok()) return cases;
  for (const auto& c : (*json)["cases"]) {
    cases.push_back({c["text"].get<std::string>(),
                     c["input_ids"].get<std::vector<int32_t>>(),
                     c["encoder_output"].get<std::vector<float>>(),
                     c["greedy_ids"].get<std::vector<int>>(),
                     c["step_logits"].get<std::vector<std::vector<float>>>(), c["beam"]});
  }
  return cases;
}

double MaxAbsDiff(const float* a, const std::vector<float>& b) {
  double worst = 0;
  for (size_t i = 0; i < b.size(); ++i)
    worst = std::max(worst, std::abs(double{a[i]} - b[i]));
  return worst;
}

class Seq2SeqModelTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Dir() const {
    return std::string(HEED_GOLDEN_MODELS_DIR) + "/" + GetParam();
  }
};

// Marian: source.spm pieces looked up in vocab.json, then </s>. BART: byte-level
// BPE with <s> ... </s>.
std::vector<int32_t> Tokenize(const std::string& dir, const std::string& text) {
  std::vector<int32_t> ids;
  if (dir.ends_with("marian-tiny")) {
    auto spm = tokenizers::SentencePieceTokenizer::FromFile(dir + "/source.spm");
    auto vocab = io::ReadJsonFile(dir + "/vocab.json");
    EXPECT_TRUE(spm.ok() && vocab.ok());
    for (const auto& t : (*spm)->Encode(text)) {
      ids.push_back(vocab->contains(t.piece) ? (*vocab)[t.piece].get<int>()
                                             : (*vocab)["<unk>"].get<int>());
    }
    ids.push_back((*vocab)["</s>"].get<int>());
  } else {
    auto bpe = tokenizers::ByteLevelBpeTokenizer::FromFiles(dir + "/vocab.json",
                                                            dir + "/merges.txt");
    EXPECT_TRUE(bpe.ok());
    for (const auto& t : (*bpe)->Encode(text)) ids.push_back(t.id);
  }
  return ids;
}

TEST_P(Seq2SeqModelTest, TokenizationMatchesReference) {
  for (const Case& c : ReadCases(Dir()))
    EXPECT_EQ(Tokenize(Dir(), c.text), c.ids) << c.text;
}

TEST_P(Seq2SeqModelTest, EncoderAndStepLogitsMatchReference) {
  auto model = Seq2SeqModel::Load(Dir(), ops::ComputeType::kFloat32);
  ASSERT_TRUE(model.ok()) << model.status();
  for (const Case& c : ReadCases(Dir())) {
    auto encoder = (*model)->Encode(c.ids);
    ASSERT_TRUE(encoder.ok()) << encoder.status();
    EXPECT_LE(MaxAbsDiff((*encoder)->hidden.data<float>(), c.encoder_output), 1e-4)
        << c.text;
    // Feed the reference's greedy tokens and compare the logits of each step.
    DecoderState state = (*model)->StartDecoding(*encoder);
    DecoderState* states[1] = {&state};
    std::vector<float> logits((*model)->vocab_size());
    for (size_t step = 0; step < c.step_logits.size(); ++step) {
      const int32_t token = c.greedy_ids[step];
      ASSERT_TRUE((*model)->Step(states, {&token, 1}, logits.data()).ok());
      EXPECT_LE(MaxAbsDiff(logits.data(), c.step_logits[step]), 1e-4)
          << c.text << " step " << step;
    }
  }
}

TEST_P(Seq2SeqModelTest, GreedyOutputsMatchReference) {
  auto model = Seq2SeqModel::Load(Dir(), ops::ComputeType::kFloat32);
  ASSERT_TRUE(model.ok()) << model.status();
  auto config = io::ReadModelConfig(Dir());
  auto defaults = io::ReadGenerationDefaults(Dir());
  ASSERT_TRUE(config.ok() && defaults.ok());
  const generation::GenerationParams params =
      generation::ParamsFromModel(*config, *defaults);
  for (const Case& c : ReadCases(Dir())) {
    auto result = generation::Generate(**model, c.ids, params, {});
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->size(), 1u);
    EXPECT_EQ((*result)[0].ids, c.greedy_ids) << c.text;
  }
}

TEST_P(Seq2SeqModelTest, ReducedPrecisionAgreesOnTheNextToken) {
  // bf16 and int8 against the f32 reference's step logits: the same best
  // token at every compared step, logits within 3 % (bf16), 10 % (int8) or
  // 35 % (int8 with 7-bit weights, where the CPU has no VNNI) of the step's
  // largest |logit|. These tiny random models amplify quantization error:
  // measured worst cases 8.1 % and 30 %; the bundled models' int8 outputs
  // are held to token agreement in bundled_models_test.
  const double int8_tolerance = ops::OneDnnHasInt8DotProducts() ? 0.10 : 0.35;
  for (auto [type, tolerance] : {std::pair{ops::ComputeType::kBFloat16, 0.03},
                                 std::pair{ops::ComputeType::kInt8, int8_tolerance}}) {
    // Below avx512_bf16 a bfloat16 request runs as float32 (compute_type.h).
    if (ops::ChooseComputeType(type).used != type) continue;
    auto model = Seq2SeqModel::Load(Dir(), type);
    ASSERT_TRUE(model.ok()) << model.status();
    int steps = 0, agree = 0;
    for (const Case& c : ReadCases(Dir())) {
      auto encoder = (*model)->Encode(c.ids);
      ASSERT_TRUE(encoder.ok());
      DecoderState state = (*model)->StartDecoding(*encoder);
      DecoderState* states[1] = {&state};
      std::vector<float> logits((*model)->vocab_size());
      for (size_t step = 0; step < c.step_logits.size(); ++step) {
        const int32_t token = c.greedy_ids[step];
        ASSERT_TRUE((*model)->Step(states, {&token, 1}, logits.data()).ok());
        const auto& want = c.step_logits[step];
        float scale = 0;
        for (float w : want) scale = std::max(scale, std::abs(w));
        EXPECT_LE(MaxAbsDiff(logits.data(), want), tolerance * scale);
        ++steps;
        agree += std::max_element(logits.begin(), logits.end()) - logits.begin() ==
                 std::max_element(want.begin(), want.end()) - want.begin();
      }
    }
    EXPECT_EQ(agree, steps) << ops::ComputeTypeName(type);
  }
}

TEST_P(Seq2SeqModelTest, BeamSearchMatchesReference) {
  auto model = Seq2SeqModel::Load(Dir(), ops::ComputeType::kFloat32);
  ASSERT_TRUE(model.ok()) << model.status();
  auto config = io::ReadModelConfig(Dir());
  auto defaults = io::ReadGenerationDefaults(Dir());
  ASSERT_TRUE(config.ok() && defaults.ok());
  const generation::GenerationParams params =
      generation::ParamsFromModel(*config, *defaults);
  for (const Case& c : ReadCases(Dir())) {
    for (const auto& [key, expected] : c.beam.items()) {
      generation::SearchOptions options;
      char early = '0';
      ASSERT_EQ(std::sscanf(key.c_str(), "%d_%f_%c", &options.num_beams,
                            &options.length_penalty, &early),
                3);
      options.early_stopping = early == '1';
      options.num_return_sequences = static_cast<int>(expected.size());
      auto hyps = generation::Generate(**model, c.ids, params, options);
      ASSERT_TRUE(hyps.ok()) << hyps.status();
      ASSERT_EQ(hyps->size(), expected.size()) << key;
      for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ((*hyps)[i].ids, expected[i]["ids"].get<std::vector<int>>())
            << c.text << " " << key << " #" << i;
        EXPECT_NEAR((*hyps)[i].score, expected[i]["score"].get<double>(), 1e-4) << key;
      }
    }
  }
}

TEST_P(Seq2SeqModelTest, StatesAtDifferentPositionsBatchTogether) {
  // Two sequences that started at different times share one Step call and
  // get the same logits as when run alone.
  auto model = Seq2SeqModel::Load(Dir(), ops::ComputeType::kFloat32);
  ASSERT_TRUE(model.ok());
  const std::vector<Case> cases = ReadCases(Dir());
  ASSERT_GE(cases.size(), 2u);
  auto enc_a = (*model)->Encode(cases[0].ids);
  auto enc_b = (*model)->Encode(cases[1].ids);
  ASSERT_TRUE(enc_a.ok() && enc_b.ok());
  DecoderState a = (*model)->StartDecoding(*enc_a), b = (*model)->StartDecoding(*enc_b);
  const int vocab = (*model)->vocab_size();
  std::vector<float> logits(2 * vocab);
  DecoderState* only_a[1] = {&a};
  const int32_t first = cases[0].greedy_ids[0];
  ASSERT_TRUE((*model)->Step(only_a, {&first, 1}, logits.data()).ok());
  DecoderState* both[2] = {&a, &b};
  const int32_t tokens[2] = {cases[0].greedy_ids[1], cases[1].greedy_ids[0]};
  ASSERT_TRUE((*model)->Step(both, tokens, logits.data()).ok());
  EXPECT_LE(MaxAbsDiff(logits.data(), cases[0].step_logits[1]), 1e-4);
  EXPECT_LE(MaxAbsDiff(logits.data() + vocab, cases[1].step_logits[0]), 1e-4);
}

TEST_P(Seq2SeqModelTest, EncodingSeveralSourcesAtOnceEqualsEncodingEachAlone) {
  // The server encodes the requests that join a step in one pass; each must
  // get the reference encoder output, and the cross-attention keys and values
  // of encoding it alone.
  auto model = Seq2SeqModel::Load(Dir(), ops::ComputeType::kFloat32);
  ASSERT_TRUE(model.ok());
  const std::vector<Case> cases = ReadCases(Dir());
  ASSERT_GE(cases.size(), 2u);
  std::vector<std::span<const int32_t>> sources;
  for (const Case& c : cases) sources.push_back(c.ids);
  auto batch = (*model)->EncodeBatch(sources);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const EncoderOutput& together = *(*batch)[i];
    EXPECT_EQ(together.length, static_cast<int>(cases[i].ids.size()));
    EXPECT_LE(MaxAbsDiff(together.hidden.data<float>(), cases[i].encoder_output), 1e-4)
        << cases[i].text;
    auto alone = (*model)->Encode(cases[i].ids);
    ASSERT_TRUE(alone.ok());
    ASSERT_EQ(together.cross.size(), (*alone)->cross.size());
    for (size_t l = 0; l < together.cross.size(); ++l) {
      const auto a = together.cross[l].View<float>(),
                 b = (*alone)->cross[l].View<float>();
      ASSERT_EQ(a.length, b.length);
      const int64_t heads = (*model)->config().decoder_heads;
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t n = int64_t{a.length} * (*model)->config().d_model / heads;
        std::vector<float> k(b.k + h * b.head_stride, b.k + h * b.head_stride + n);
        std::vector<float> v(b.v + h * b.head_stride, b.v + h * b.head_stride + n);
        EXPECT_LE(MaxAbsDiff(a.k + h * a.head_stride, k), 1e-5) << "layer " << l;
        EXPECT_LE(MaxAbsDiff(a.v + h * a.head_stride, v), 1e-5) << "layer " << l;
      }
    }
  }
  // One bad source fails the batch with the reason Encode gives.
  sources.push_back({});
  EXPECT_EQ((*model)->EncodeBatch(sources).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(Seq2SeqModelTest, RejectsInputsBeyondTheModel) {
  auto model = Seq2SeqModel::Load(Dir(), ops::ComputeType::kFloat32);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ((*model)->Encode(std::vector<int32_t>(65, 5)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*model)->Encode(std::vector<int32_t>{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*model)->Encode(std::vector<int32_t>{5, 1 << 20}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Families, Seq2SeqModelTest,
                         ::testing::Values("marian-tiny", "bart-tiny"));

}  // namespace
}  // namespace heed::models
