// The bundled demo models in models/ reproduce the independent PyTorch
// reference (double precision) on samples of their evaluation sets: greedy
// outputs of the translation and summarization models and labels of the
// sentiment model must be identical for at least 99 % of the inputs.
// Expected outputs: tests/golden/bundled, written by
// tools/train/make_bundled_goldens.py; the inputs are read from
// ../shared/data by file and line number.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/io/json_file.h"
#include "core/pipelines/model_registry.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizers/golden_files.h"

namespace heed::pipelines {
namespace {

const std::string kModels = HEED_BUNDLED_MODELS_DIR;
const std::string kGolden = HEED_BUNDLED_GOLDEN_DIR;

struct Case {
  std::string text;
  nlohmann::json expected;  // output ids or logits
};

// The cases of a golden file, reading each group's lines from the corpora.
std::vector<Case> ReadCases(const nlohmann::json& golden, const std::string& data,
                            const char* expected_key) {
  std::vector<Case> cases;
  for (const auto& group : golden["groups"]) {
    const auto numbers = group["lines"].get<std::vector<size_t>>();
    const int column = group["column"].get<int>();
    const size_t needed = *std::max_element(numbers.begin(), numbers.end()) + 1;
    const auto lines = tokenizers::ReadGzipLines(
        data + "/" + group["file"].get<std::string>(), -1, needed);
    EXPECT_GE(lines.size(), needed) << group["file"];
    if (lines.size() < needed) return {};
    for (size_t i = 0; i < numbers.size(); ++i) {
      std::string text = lines[numbers[i]];
      if (column >= 0) {
        std::vector<std::string> fields = absl::StrSplit(text, '\t');
        text = fields.at(column);
      }
      cases.push_back({std::move(text), group[expected_key][i]});
    }
  }
  return cases;
}

class BundledModelTest : public ::testing::Test {
 protected:
  // Loads models/<name> with `type` and the cases of its golden file; false
  // (with the test skipped) when the corpora are absent outside CI.
  bool Setup(const std::string& name, const std::string& golden_file, const char* key,
             ops::ComputeType type = ops::ComputeType::kFloat32) {
    const std::string data = tokenizers::SharedDataDir();
    if (data.empty()) return false;
    auto golden = io::ReadJsonFile(kGolden + "/" + golden_file);
    EXPECT_TRUE(golden.ok()) << golden.status();
    if (!golden.ok()) return false;
    EXPECT_EQ((*golden)["model"], name);
    auto model = LoadModel(kModels + "/" + name, type);
    EXPECT_TRUE(model.ok()) << model.status();
    if (!model.ok()) return false;
    model_ = std::move(*model);
    cases_ = ReadCases(*golden, data, key);
    EXPECT_GE(cases_.size(), 100u);
    return cases_.size() >= 100;
  }

  // The greedy output ids (the model's generation_config.json) of a case.
  std::vector<int> GreedyIds(const Case& c, std::string* text = nullptr) {
    GenerationRequest request;
    request.text = c.text;
    request.truncate_input = true;
    // The reference is plain greedy search with the model's other defaults
    // (the summarizer's own default is beam 4 with an encoder repetition
    // penalty and heed's no-adjacent-repeat rule).
    request.num_beams = 1;
    request.repetition_penalty = 1.0f;
    request.encoder_repetition_penalty = 1.0f;
    request.no_adjacent_repeat_ngram_size = 0;
    auto result = model_->generator->Generate(request);
    EXPECT_TRUE(result.ok()) << result.status();
    std::vector<int> ids;
    if (!result.ok()) return ids;
    for (const auto& t : result->outputs.at(0).tokens) ids.push_back(t.id);
    if (text != nullptr) *text = result->outputs[0].text;
    return ids;
  }

  // Greedy outputs of every case; returns how many differ from the
  // reference, reporting the first three.
  int CountGenerationMismatches() {
    int mismatches = 0;
    for (const Case& c : cases_) {
      std::string text;
      const std::vector<int> ids = GreedyIds(c, &text);
      const auto want = c.expected.get<std::vector<int>>();
      if (ids == want) continue;
      if (++mismatches <= 3) {
        ADD_FAILURE() << "differs from the reference (tolerated up to 1 %): " << c.text
                      << "\n  heed:      " << absl::StrJoin(ids, " ") << " = " << text
                      << "\n  reference: " << absl::StrJoin(want, " ");
      }
    }
    return mismatches;
  }

  // Every case's text through the sentiment classifier, in one batch.
  auto ClassifyCases() {
    std::vector<std::string> texts;
    for (const Case& c : cases_) texts.push_back(c.text);
    return model_->classifier->Classify(texts, LongInput::kTruncate, false);
  }

  // The tokens the greedy outputs share with the reference, in order (their
  // longest common subsequence), over the longer of each pair, summed over
  // the cases: a word inserted early does not count the rest as different.
  double TokenAgreement() {
    int64_t same = 0, total = 0;
    for (const Case& c : cases_) {
      const std::vector<int> ids = GreedyIds(c);
      const auto want = c.expected.get<std::vector<int>>();
      same += LongestCommonSubsequence(ids, want);
      total += std::max(ids.size(), want.size());
    }
    return total > 0 ? static_cast<double>(same) / total : 0.0;
  }

  static int64_t LongestCommonSubsequence(const std::vector<int>& a,
                                          const std::vector<int>& b) {
    std::vector<int64_t> row(b.size() + 1, 0), next(b.size() + 1, 0);
    for (size_t i = 0; i < a.size(); ++i) {
      for (size_t j = 0; j < b.size(); ++j) {
        next[j + 1] = a[i] == b[j] ? row[j] + 1 : std::max(row[j + 1], next[j]);
      }
      std::swap(row, next);
    }
    return row[b.size()];
  }

  std::unique_ptr<LoadedModel> model_;
  std::vector<Case> cases_;
};

// bfloat16 and int8 at this process's ISA level (ctest runs every level the
// CPU has) against the float32 reference; the bar is 95 % of tokens.
// Measured on an AMD Zen 4 (translation / summarization token agreement; the
// summarizer of 2026.12.01 (b), bf16 with bf16 attention and KV caches):
//   bfloat16 at avx512_bf16                 0.991 / 0.994
//   int8, 8-bit weights at avx512_vnni      0.975 / 0.959
//   int8, 7-bit weights at avx512           0.964 / 0.965
//   int8, 7-bit weights at avx2             0.965 / 0.963
//   int8, 7-bit weights at generic          0.960 / 0.953
// The first summarizer of 2026.12.01 reached only 0.938-0.940 with 7-bit
// weights (its bar was lowered to 93 % then); the retrained one meets 95 %.
class ReducedPrecisionTest : public BundledModelTest,
                             public ::testing::WithParamInterface<ops::ComputeType> {
 protected:
  bool SetupReduced(const std::string& name, const std::string& golden_file,
                    const char* key) {
    const ops::ComputeTypeChoice choice = ops::ChooseComputeType(GetParam());
    if (choice.used != GetParam()) {
      std::printf("%s runs as %s at this level: %s\n",
                  std::string(ops::ComputeTypeName(GetParam())).c_str(),
                  std::string(ops::ComputeTypeName(choice.used)).c_str(),
                  choice.detail.c_str());
      return false;
    }
    return Setup(name, golden_file, key, GetParam());
  }

  void ExpectTokenAgreement(const char* task, double bar = 0.95) {
    const double agreement = TokenAgreement();
    std::printf("%s %s token agreement %.4f\n", model_->compute.detail.c_str(), task,
                agreement);
    EXPECT_GE(agreement, bar);
  }
};

TEST_P(ReducedPrecisionTest, TranslationAgreesWithFloat32) {
  if (!SetupReduced("marian-en-de-demo", "translation.json", "output_ids")) GTEST_SKIP();
  ExpectTokenAgreement("translation");
}

TEST_P(ReducedPrecisionTest, SummarizationAgreesWithFloat32) {
  if (!SetupReduced("bart-synopsis-demo", "summarization.json", "output_ids"))
    GTEST_SKIP();
  ExpectTokenAgreement("summarization");
}

TEST_P(ReducedPrecisionTest, SentimentKeepsTheLabels) {
  if (!SetupReduced("distilbert-sentiment-demo", "sentiment.json", "logits"))
    GTEST_SKIP();
  auto results = ClassifyCases();
  ASSERT_TRUE(results.ok()) << results.status();
  int label_mismatches = 0;
  for (size_t i = 0; i < cases_.size(); ++i) {
    const auto logits = cases_[i].expected.get<std::vector<double>>();
    if ((*results)[i].label == (logits[1] > logits[0] ? 1 : 0)) continue;
    ++label_mismatches;
    // Only a coin flip of the reference may flip: int8 at every level turns
    // "Absorbing and disturbing ..." (reference logits 0.0166 / -0.0024,
    // P(positive) 0.495) to 0.504; no other label moves.
    EXPECT_LT(std::abs(logits[1] - logits[0]), 0.05)
        << "label differs from the reference: " << cases_[i].text;
  }
  std::printf("%s sentiment labels differ on %d of %zu\n", model_->compute.detail.c_str(),
              label_mismatches, cases_.size());
  EXPECT_LE(label_mismatches, 1);
}

INSTANTIATE_TEST_SUITE_P(Types, ReducedPrecisionTest,
                         ::testing::Values(ops::ComputeType::kBFloat16,
                                           ops::ComputeType::kInt8),
                         [](const auto& info) {
                           return std::string(ops::ComputeTypeName(info.param));
                         });

TEST_F(BundledModelTest, TranslationGreedyOutputsMatchReference) {
  if (!Setup("marian-en-de-demo", "translation.json", "output_ids")) GTEST_SKIP();
  EXPECT_EQ(model_->task, Task::kTranslation);
  const int mismatches = CountGenerationMismatches();
  EXPECT_LE(mismatches * 100, static_cast<int>(cases_.size())) << mismatches << " differ";
}

TEST_F(BundledModelTest, SummarizationGreedyOutputsMatchReference) {
  if (!Setup("bart-synopsis-demo", "summarization.json", "output_ids")) GTEST_SKIP();
  EXPECT_EQ(model_->task, Task::kSummarization);
  const int mismatches = CountGenerationMismatches();
  EXPECT_LE(mismatches * 100, static_cast<int>(cases_.size())) << mismatches << " differ";
}

TEST_F(BundledModelTest, SentimentLabelsAndProbabilitiesMatchReference) {
  if (!Setup("distilbert-sentiment-demo", "sentiment.json", "logits")) GTEST_SKIP();
  EXPECT_EQ(model_->task, Task::kSentiment);
  auto results = ClassifyCases();
  ASSERT_TRUE(results.ok()) << results.status();
  int label_mismatches = 0;
  for (size_t i = 0; i < cases_.size(); ++i) {
    const auto logits = cases_[i].expected.get<std::vector<double>>();
    const double top = std::max(logits[0], logits[1]);
    const double norm = std::exp(logits[0] - top) + std::exp(logits[1] - top);
    const int want = logits[1] > logits[0] ? 1 : 0;
    label_mismatches += (*results)[i].label != want;
    for (int k = 0; k < 2; ++k) {
      EXPECT_NEAR((*results)[i].probabilities[k], std::exp(logits[k] - top) / norm, 1e-3)
          << cases_[i].text;
    }
  }
  EXPECT_LE(label_mismatches * 100, static_cast<int>(cases_.size()));
  EXPECT_EQ(model_->classifier->labels(),
            (std::vector<std::string>{"NEGATIVE", "POSITIVE"}));
}

}  // namespace
}  // namespace heed::pipelines
