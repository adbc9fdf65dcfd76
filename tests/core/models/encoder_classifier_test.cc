// BERT and DistilBERT classifiers against the PyTorch reference
// (tools/reference/models.py) through golden logits of tiny random models in
// Hub layout. f32 within 1e-4; bf16 and int8 within documented tolerances with
// the same top label.
#include "core/models/encoder_classifier.h"

#include <cmath>

#include "core/io/json_file.h"
#include "core/ops/compute_type.h"
#include "core/ops/onednn_engine.h"
#include "core/tokenizers/wordpiece_tokenizer.h"
#include "gtest/gtest.h"

namespace heed::models {
namespace {

struct Case {
  std::string text;
  std::vector<int32_t> ids;
  std::vector<float> logits;
};

std::vector<Case> ReadCases(const std::string& dir) {
  auto json = io::ReadJsonFile(dir + "/golden.json");
  EXPECT_TRUE(json.ok()) << json.status();
  std::vector<Case> cases;
  if (!json.ok()) return cases;
  for (const auto& c : (*json)["cases"]) {
    cases.push_back({c["text"].get<std::string>(),
                     c["input_ids"].get<std::vector<int32_t>>(),
                     c["logits"].get<std::vector<float>>()});
  }
  return cases;
}

class EncoderClassifierTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Dir() const {
    return std::string(HEED_GOLDEN_MODELS_DIR) + "/" + GetParam();
  }
};

TEST_P(EncoderClassifierTest, TokenizerMatchesReference) {
  auto tokenizer = tokenizers::WordPieceTokenizer::FromModelDir(Dir());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  for (const Case& c : ReadCases(Dir())) {
    std::vector<int32_t> ids;
    for (const auto& t : (*tokenizer)->Encode(c.text)) ids.push_back(t.id);
    EXPECT_EQ(ids, c.ids) << c.text;
  }
}

TEST_P(EncoderClassifierTest, Float32LogitsMatchReference) {
  auto model = EncoderClassifier::Load(Dir(), ops::ComputeType::kFloat32);
  ASSERT_TRUE(model.ok()) << model.status();
  const std::vector<Case> cases = ReadCases(Dir());
  std::vector<std::vector<int32_t>> batch;
  for (const Case& c : cases) batch.push_back(c.ids);
  auto logits = (*model)->Classify(batch);  // one packed batch of mixed lengths
  ASSERT_TRUE(logits.ok()) << logits.status();
  for (size_t i = 0; i < cases.size(); ++i) {
    ASSERT_EQ((*logits)[i].size(), cases[i].logits.size());
    for (size_t j = 0; j < cases[i].logits.size(); ++j) {
      EXPECT_NEAR((*logits)[i][j], cases[i].logits[j], 1e-4) << cases[i].text;
    }
  }
}

TEST_P(EncoderClassifierTest, ReducedPrecisionKeepsTheLabel) {
  const std::vector<Case> cases = ReadCases(Dir());
  std::vector<std::vector<int32_t>> batch;
  for (const Case& c : cases) batch.push_back(c.ids);
  // bf16 keeps 8 mantissa bits; int8 quantizes weights per channel and
  // activations per row. Tolerances are relative to the case's largest
  // |logit| (3 %, 8 %, and 35 % for int8's 7-bit weights where the CPU has no
  // VNNI: these tiny random models have no outlier-free activations to help);
  // the chosen label never changes.
  const double int8_tolerance = ops::OneDnnHasInt8DotProducts() ? 0.08 : 0.35;
  for (auto [type, tolerance] : {std::pair{ops::ComputeType::kBFloat16, 0.03},
                                 std::pair{ops::ComputeType::kInt8, int8_tolerance}}) {
    // Below avx512_bf16 a bfloat16 request runs as float32 (compute_type.h).
    if (ops::ChooseComputeType(type).used != type) continue;
    auto model = EncoderClassifier::Load(Dir(), type);
    ASSERT_TRUE(model.ok()) << model.status();
    auto logits = (*model)->Classify(batch);
    ASSERT_TRUE(logits.ok());
    for (size_t i = 0; i < cases.size(); ++i) {
      const auto& want = cases[i].logits;
      const auto& got = (*logits)[i];
      EXPECT_EQ(std::max_element(got.begin(), got.end()) - got.begin(),
                std::max_element(want.begin(), want.end()) - want.begin());
      float scale = 0;
      for (float w : want) scale = std::max(scale, std::abs(w));
      for (size_t j = 0; j < want.size(); ++j)
        EXPECT_NEAR(got[j], want[j], tolerance * scale);
    }
  }
}

// A pass reuses the buffers of the one before (EncoderLayer::ScratchCache),
// larger and full of its values: each case alone after the whole batch gives
// the logits it gives alone on a fresh model, to the bit.
TEST_P(EncoderClassifierTest, ReusedBuffersDoNotChangeTheLogits) {
  const std::vector<Case> cases = ReadCases(Dir());
  ASSERT_GT(cases.size(), 1u);
  auto model = EncoderClassifier::Load(Dir(), ops::ComputeType::kFloat32);
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<std::vector<int32_t>> batch;
  for (const Case& c : cases) batch.push_back(c.ids);
  ASSERT_TRUE((*model)->Classify(batch).ok());
  for (const Case& c : cases) {
    auto fresh = EncoderClassifier::Load(Dir(), ops::ComputeType::kFloat32);
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    auto want = (*fresh)->Classify({c.ids});
    auto got = (*model)->Classify({c.ids});
    ASSERT_TRUE(want.ok() && got.ok());
    EXPECT_EQ(*got, *want) << c.text;
  }
}

TEST_P(EncoderClassifierTest, RejectsBadInputs) {
  auto model = EncoderClassifier::Load(Dir(), ops::ComputeType::kFloat32);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ((*model)->Classify({{}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*model)->Classify({std::vector<int32_t>(65, 5)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto bad_id = (*model)->Classify({{2, 999999, 3}});
  EXPECT_EQ(bad_id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_id.status().message().find("999999"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Families, EncoderClassifierTest,
                         ::testing::Values("bert-tiny", "distilbert-tiny"));

TEST(EncoderClassifierLoadTest, MissingDirectory) {
  EXPECT_EQ(
      EncoderClassifier::Load("/nonexistent", ops::ComputeType::kFloat32).status().code(),
      absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace heed::models
