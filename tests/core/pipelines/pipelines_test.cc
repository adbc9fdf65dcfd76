// Text in, text out on the tiny fixture models: the pipelines reproduce the
// reference's outputs, enforce input limits, truncate only when asked, and
// return alignments and attributions that are distributions.
#include <cmath>
#include <numeric>

#include "core/io/json_file.h"
#include "core/pipelines/model_registry.h"
#include "gtest/gtest.h"

namespace heed::pipelines {
namespace {

const std::string kModels = HEED_GOLDEN_MODELS_DIR;

nlohmann::json Golden(const std::string& model) {
  auto json = io::ReadJsonFile(kModels + "/" + model + "/golden.json");
  EXPECT_TRUE(json.ok());
  return json.ok() ? *json : nlohmann::json();
}

std::unique_ptr<LoadedModel> Load(const std::string& name) {
  auto model = LoadModel(kModels + "/" + name, ops::ComputeType::kFloat32);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? std::move(*model) : nullptr;
}

std::vector<int> GeneratedIds(const GeneratedText& out) {
  std::vector<int> ids;
  for (const auto& t : out.tokens) ids.push_back(t.id);
  return ids;
}

TEST(RegistryTest, FindsAndClassifiesTheFixtureModels) {
  auto dirs = FindModelDirectories(kModels);
  ASSERT_TRUE(dirs.ok());
  ASSERT_EQ(dirs->size(), 4u);
  EXPECT_EQ(Load("marian-tiny")->task, Task::kTranslation);
  EXPECT_EQ(Load("bart-tiny")->task, Task::kSummarization);
  EXPECT_EQ(Load("bert-tiny")->task, Task::kSentiment);
  EXPECT_EQ(Load("distilbert-tiny")->architecture, "DistilBertForSequenceClassification");
  EXPECT_EQ(FindModelDirectories("/nonexistent").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TranslatorTest, GreedyTranslationMatchesReference) {
  auto model = Load("marian-tiny");
  ASSERT_NE(model, nullptr);
  for (const auto& c : Golden("marian-tiny")["cases"]) {
    GenerationRequest request;
    request.text = c["text"].get<std::string>();
    auto result = model->generator->Generate(request);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->outputs.size(), 1u);
    std::vector<int> want = c["greedy_ids"].get<std::vector<int>>();
    want.erase(want.begin());  // the decoder start token
    EXPECT_EQ(GeneratedIds(result->outputs[0]), want);
    EXPECT_FALSE(result->outputs[0].text.empty());
    EXPECT_EQ(result->output_tokens, static_cast<int>(want.size()));
  }
}

TEST(TranslatorTest, AlignmentRowsAreDistributionsOverSourceTokens) {
  auto model = Load("marian-tiny");
  ASSERT_NE(model, nullptr);
  GenerationRequest request;
  request.text = "A dog runs.";
  request.return_alignment = true;
  request.max_output_tokens = 5;
  auto result = model->generator->Generate(request);
  ASSERT_TRUE(result.ok()) << result.status();
  const GeneratedText& out = result->outputs[0];
  ASSERT_EQ(out.tokens.size(), 5u);
  const size_t source = result->source_tokens.size();
  ASSERT_EQ(out.alignment.size(), out.tokens.size() * source);
  for (size_t t = 0; t < out.tokens.size(); ++t) {
    const float sum = std::accumulate(out.alignment.begin() + t * source,
                                      out.alignment.begin() + (t + 1) * source, 0.0f);
    EXPECT_NEAR(sum, 1.0f, 1e-4);
  }
}

// Alignments of several hypotheses are computed together, one batched decoder
// step per position: each equals its hypothesis' alignment computed alone.
TEST(TranslatorTest, BatchedAlignmentsEqualEachHypothesisAlone) {
  auto model = Load("marian-tiny");
  ASSERT_NE(model, nullptr);
  GenerationRequest request;
  request.text = "Two dogs play in the snow near a red house.";
  request.return_alignment = true;
  request.num_beams = 4;
  request.num_return_sequences = 3;
  request.max_output_tokens = 9;
  auto result = model->generator->Generate(request);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->outputs.size(), 3u);
  auto prepared = model->generator->Prepare(request);
  ASSERT_TRUE(prepared.ok());
  auto encoder = model->generator->model().Encode(prepared->source_ids);
  ASSERT_TRUE(encoder.ok());
  const int start = model->generator->model().config().decoder_start_token_id;
  for (const GeneratedText& out : result->outputs) {
    std::vector<std::vector<int>> alone = {{start}};
    for (const auto& token : out.tokens) alone[0].push_back(token.id);
    auto single = model->generator->model().Alignments(*encoder, alone);
    ASSERT_TRUE(single.ok()) << single.status();
    ASSERT_EQ((*single)[0].size(), out.alignment.size());
    for (size_t i = 0; i < out.alignment.size(); ++i) {
      ASSERT_NEAR((*single)[0][i], out.alignment[i], 1e-5) << i;
    }
  }
}

// A long alignment pass stops at a deadline (or cancellation) between steps.
TEST(TranslatorTest, AlignmentStopsWhenAskedBetweenSteps) {
  auto model = Load("marian-tiny");
  ASSERT_NE(model, nullptr);
  GenerationRequest request;
  request.text = "A dog runs.";
  request.return_alignment = true;
  request.max_output_tokens = 8;
  request.min_output_tokens = 8;
  auto prepared = model->generator->Prepare(request);
  ASSERT_TRUE(prepared.ok());
  auto job = model->generator->Start(*std::move(prepared), true);
  ASSERT_TRUE(job.ok()) << job.status();
  while (!(*job)->done()) {
    GenerationJob* jobs[1] = {job->get()};
    ASSERT_TRUE(model->generator->Step(jobs).ok());
  }
  int steps = 0;
  auto result = model->generator->Finish(**job, [&steps]() -> absl::Status {
    if (++steps > 3) return absl::DeadlineExceededError("past the deadline");
    return absl::OkStatus();
  });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(steps, 4);  // stopped at the fourth step, not after all eight
}

TEST(SummarizerTest, BeamSearchMatchesReference) {
  auto model = Load("bart-tiny");
  ASSERT_NE(model, nullptr);
  for (const auto& c : Golden("bart-tiny")["cases"]) {
    GenerationRequest request;
    request.text = c["text"].get<std::string>();
    request.num_beams = 4;
    request.num_return_sequences = 2;
    auto result = model->generator->Generate(request);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->outputs.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      std::vector<int> want = c["beam"]["4_1.0_0"][i]["ids"].get<std::vector<int>>();
      want.erase(want.begin());
      EXPECT_EQ(GeneratedIds(result->outputs[i]), want);
    }
  }
}

TEST(GeneratorTest, InputLimitsAndOptionValidation) {
  auto model = Load("bart-tiny");
  ASSERT_NE(model, nullptr);
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "word" + std::to_string(i) + " ";
  GenerationRequest request;
  request.text = long_text;
  auto rejected = model->generator->Generate(request);
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(rejected.status().message().find("truncate_input"), std::string::npos);
  request.truncate_input = true;
  request.max_output_tokens = 4;
  auto truncated = model->generator->Generate(request);
  ASSERT_TRUE(truncated.ok()) << truncated.status();
  EXPECT_TRUE(truncated->truncated);
  EXPECT_EQ(static_cast<int>(truncated->source_tokens.size()), model->max_input_tokens());
  EXPECT_EQ(truncated->source_tokens.back().id, 2);  // </s> kept at the end
  EXPECT_LE(truncated->outputs[0].tokens.size(), 4u);

  request = {};
  EXPECT_EQ(model->generator->Generate(request).status().code(),
            absl::StatusCode::kInvalidArgument);  // empty text
  request.text = "hello";
  request.max_output_tokens = 10000;
  EXPECT_EQ(model->generator->Generate(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.max_output_tokens = 5;
  request.min_output_tokens = 6;
  EXPECT_EQ(model->generator->Generate(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SentimentTest, LabelsProbabilitiesAndAttributions) {
  auto model = Load("bert-tiny");
  ASSERT_NE(model, nullptr);
  std::vector<std::string> texts;
  std::vector<int> want_labels;
  for (const auto& c : Golden("bert-tiny")["cases"]) {
    texts.push_back(c["text"].get<std::string>());
    const auto logits = c["logits"].get<std::vector<float>>();
    want_labels.push_back(static_cast<int>(
        std::max_element(logits.begin(), logits.end()) - logits.begin()));
  }
  auto results = model->classifier->Classify(texts, false, /*attributions=*/true);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), texts.size());
  EXPECT_EQ(model->classifier->labels(),
            (std::vector<std::string>{"NEGATIVE", "POSITIVE"}));
  for (size_t i = 0; i < texts.size(); ++i) {
    const Classification& c = (*results)[i];
    EXPECT_EQ(c.label, want_labels[i]);
    EXPECT_NEAR(std::accumulate(c.probabilities.begin(), c.probabilities.end(), 0.0f),
                1.0f, 1e-5);
    ASSERT_EQ(c.attributions.size(), c.tokens.size());
    EXPECT_NEAR(std::accumulate(c.attributions.begin(), c.attributions.end(), 0.0f), 1.0f,
                1e-4);
  }
  EXPECT_EQ(model->classifier->Classify({""}, false, false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace heed::pipelines
