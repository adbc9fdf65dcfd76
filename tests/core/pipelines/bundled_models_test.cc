// The bundled demo models in models/ reproduce the independent PyTorch
// reference (double precision) on samples of their evaluation sets: greedy
// outputs of the translation and summarization models and labels of the
// sentiment model must be identical for at least 99 % of the inputs.
// Expected outputs: tests/golden/bundled, written by
// tools/train/make_bundled_goldens.py; the inputs are read from
// ../shared/data by file and line number.
#include <algorithm>
#include <cmath>
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
  // Loads models/<name> in f32 and the cases of its golden file; false (with
  // the test skipped) when the corpora are absent outside CI.
  bool Setup(const std::string& name, const std::string& golden_file, const char* key) {
    const std::string data = tokenizers::SharedDataDir();
    if (data.empty()) return false;
    auto golden = io::ReadJsonFile(kGolden + "/" + golden_file);
    EXPECT_TRUE(golden.ok()) << golden.status();
    if (!golden.ok()) return false;
    EXPECT_EQ((*golden)["model"], name);
    auto model = LoadModel(kModels + "/" + name, ops::ComputeType::kFloat32);
    EXPECT_TRUE(model.ok()) << model.status();
    if (!model.ok()) return false;
    model_ = std::move(*model);
    cases_ = ReadCases(*golden, data, key);
    EXPECT_GE(cases_.size(), 100u);
    return cases_.size() >= 100;
  }

  // Greedy outputs (the model's generation_config.json) of every case;
  // returns how many differ from the reference, reporting the first three.
  int CountGenerationMismatches() {
    int mismatches = 0;
    for (const Case& c : cases_) {
      GenerationRequest request;
      request.text = c.text;
      request.truncate_input = true;
      auto result = model_->generator->Generate(request);
      EXPECT_TRUE(result.ok()) << result.status();
      if (!result.ok()) return static_cast<int>(cases_.size());
      std::vector<int> ids;
      for (const auto& t : result->outputs.at(0).tokens) ids.push_back(t.id);
      const auto want = c.expected.get<std::vector<int>>();
      if (ids == want) continue;
      if (++mismatches <= 3) {
        ADD_FAILURE() << "differs from the reference (tolerated up to 1 %): " << c.text
                      << "\n  heed:      " << absl::StrJoin(ids, " ") << " = "
                      << result->outputs[0].text
                      << "\n  reference: " << absl::StrJoin(want, " ");
      }
    }
    return mismatches;
  }

  std::unique_ptr<LoadedModel> model_;
  std::vector<Case> cases_;
};

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
  std::vector<std::string> texts;
  for (const Case& c : cases_) texts.push_back(c.text);
  auto results = model_->classifier->Classify(texts, /*truncate=*/true, false);
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
  EXPECT_EQ(model_->classifier->labels(), (std::vector<std::string>{"NEGATIVE", "POSITIVE"}));
}

}  // namespace
}  // namespace heed::pipelines
