// Text in, text out on the tiny fixture models: the pipelines reproduce the
// reference's outputs, enforce input limits, truncate only when asked, and
// return alignments and attributions that are distributions.
#include <atomic>
#include <cmath>
#include <numeric>
#include <thread>

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
  // The range must not be a member of a temporary: it would dangle.
  const nlohmann::json golden = Golden("marian-tiny");
  for (const auto& c : golden["cases"]) {
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
  // The range must not be a member of a temporary: it would dangle.
  const nlohmann::json golden = Golden("bart-tiny");
  for (const auto& c : golden["cases"]) {
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

// Two threads generating with one model at once (two runners sharing a
// model, or a runner and a direct call) get what each gets alone. oneDNN's
// shared scratchpad once mixed tokens of one request into the other's.
TEST(GeneratorTest, ConcurrentGenerationsDoNotMix) {
  auto model = Load("marian-tiny");
  ASSERT_NE(model, nullptr);
  const std::vector<std::string> texts = {"A dog runs in the park.", "Two children play.",
                                          "hello", "The weather is nice today."};
  std::vector<std::string> alone;
  for (const std::string& text : texts) {
    GenerationRequest request;
    request.text = text;
    request.max_output_tokens = 12;
    auto result = model->generator->Generate(request);
    ASSERT_TRUE(result.ok()) << result.status();
    alone.push_back(result->outputs[0].text);
  }
  std::atomic<int> differing{0};
  auto work = [&](size_t first) {
    for (size_t rep = 0; rep < 100; ++rep) {
      GenerationRequest request;
      request.text = texts[(first + rep) % texts.size()];
      request.max_output_tokens = 12;
      auto result = model->generator->Generate(request);
      if (!result.ok() ||
          result->outputs[0].text != alone[(first + rep) % texts.size()]) {
        ++differing;
      }
    }
  };
  std::thread t1(work, 0), t2(work, 1);
  t1.join();
  t2.join();
  EXPECT_EQ(differing.load(), 0);
}

TEST(SentimentTest, LabelsProbabilitiesAndAttributions) {
  auto model = Load("bert-tiny");
  ASSERT_NE(model, nullptr);
  std::vector<std::string> texts;
  std::vector<int> want_labels;
  // The range must not be a member of a temporary: it would dangle.
  const nlohmann::json golden = Golden("bert-tiny");
  for (const auto& c : golden["cases"]) {
    texts.push_back(c["text"].get<std::string>());
    const auto logits = c["logits"].get<std::vector<float>>();
    want_labels.push_back(static_cast<int>(
        std::max_element(logits.begin(), logits.end()) - logits.begin()));
  }
  auto results =
      model->classifier->Classify(texts, LongInput::kError, /*attributions=*/true);
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
  EXPECT_EQ(model->classifier->Classify({""}, LongInput::kError, false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A text of `sentences` sentences, well over the fixture's 64 tokens.
std::string LongText(int sentences) {
  const char* kSentences[] = {"The film was a delight from start to finish.",
                              "I hated every minute of the dull plot.",
                              "Actors were fine, the music was not."};
  std::string text;
  for (int i = 0; i < sentences; ++i) {
    if (i > 0) text += " ";
    text += kSentences[i % 3];
  }
  return text;
}

TEST(SentimentTest, LongInputPolicies) {
  auto model = Load("bert-tiny");
  ASSERT_NE(model, nullptr);
  const SentimentClassifier& classifier = *model->classifier;
  const std::string text = LongText(12);
  auto refused = classifier.Prepare(text, LongInput::kError);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("long_input CHUNKS"), std::string::npos)
      << refused.status();
  auto truncated = classifier.Prepare(text, LongInput::kTruncate);
  ASSERT_TRUE(truncated.ok());
  EXPECT_TRUE(truncated->truncated);
  EXPECT_EQ(truncated->tokens.size(), 64u);
  EXPECT_EQ(truncated->rows(), 1);
  // A text that fits is classified whole whatever the policy.
  auto short_text = classifier.Prepare("A good film.", LongInput::kChunks);
  ASSERT_TRUE(short_text.ok());
  EXPECT_TRUE(short_text->windows.empty());
  // One row per sentence, covering the whole text.
  auto chunked = classifier.Prepare(text, LongInput::kChunks);
  ASSERT_TRUE(chunked.ok()) << chunked.status();
  EXPECT_FALSE(chunked->truncated);
  ASSERT_EQ(chunked->rows(), 12);
  const int text_tokens = static_cast<int>(chunked->tokens.size()) - 2;
  EXPECT_EQ(chunked->windows.front().first, 1);
  EXPECT_EQ(chunked->windows.back().second, text_tokens + 1);
  for (size_t w = 1; w < chunked->windows.size(); ++w) {
    EXPECT_EQ(chunked->windows[w].first, chunked->windows[w - 1].second);
    EXPECT_EQ(chunked->tokens[chunked->windows[w].first - 1].end -
                  chunked->tokens[chunked->windows[w].first - 1].begin,
              1);  // the previous sentence ended with its period
  }
  // A decimal point does not end a sentence.
  auto numbers = classifier.Prepare(
      LongText(6) + " It cost 3.14 dollars and 2.5 more. " + LongText(6),
      LongInput::kChunks);
  ASSERT_TRUE(numbers.ok());
  EXPECT_EQ(numbers->rows(), 13);
  // A sentence over the model's length: windows of 62 text tokens that
  // overlap by 15.
  std::string run_on;
  for (int i = 0; i < 40; ++i) run_on += "good film and ";
  auto windows = classifier.Prepare(run_on, LongInput::kChunks);
  ASSERT_TRUE(windows.ok());
  ASSERT_GT(windows->rows(), 2);
  for (size_t w = 0; w < windows->windows.size(); ++w) {
    EXPECT_LE(windows->windows[w].second - windows->windows[w].first, 62);
    if (w > 0) {
      EXPECT_EQ(windows->windows[w].first, windows->windows[w - 1].first + 47);
    }
  }
  EXPECT_EQ(windows->windows.back().second, static_cast<int>(windows->tokens.size()) - 1);
  // Far too long: refused with the limit.
  auto too_long = classifier.Prepare(LongText(1000), LongInput::kChunks);
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.status().message().find("at most 8192 tokens"), std::string::npos)
      << too_long.status();
}

// The chunked result is the token-weighted mean of the windows classified as
// texts of their own, and attributions cover the whole text.
TEST(SentimentTest, ChunksAverageTheirWindowsWeightedByTokens) {
  auto model = Load("bert-tiny");
  ASSERT_NE(model, nullptr);
  const SentimentClassifier& classifier = *model->classifier;
  auto chunked = classifier.Prepare(LongText(12), LongInput::kChunks);
  ASSERT_TRUE(chunked.ok());
  std::vector<Classification> windows;
  for (const auto& [begin, end] : chunked->windows) {
    Classification w;
    w.tokens.push_back(chunked->tokens.front());
    for (int i = begin; i < end; ++i) w.tokens.push_back(chunked->tokens[i]);
    w.tokens.push_back(chunked->tokens.back());
    windows.push_back(std::move(w));
  }
  std::vector<Classification*> batch = {&*chunked};
  for (Classification& w : windows) batch.push_back(&w);
  ASSERT_TRUE(classifier.Run(batch, /*attributions=*/true).ok());
  std::vector<double> mean(chunked->probabilities.size(), 0.0);
  double total = 0;
  for (size_t w = 0; w < windows.size(); ++w) {
    const double weight = chunked->windows[w].second - chunked->windows[w].first;
    total += weight;
    for (size_t l = 0; l < mean.size(); ++l)
      mean[l] += weight * windows[w].probabilities[l];
  }
  for (size_t l = 0; l < mean.size(); ++l) {
    EXPECT_NEAR(chunked->probabilities[l], mean[l] / total, 1e-5);
  }
  EXPECT_EQ(chunked->label,
            static_cast<int>(std::max_element(mean.begin(), mean.end()) - mean.begin()));
  ASSERT_EQ(chunked->attributions.size(), chunked->tokens.size());
  EXPECT_NEAR(
      std::accumulate(chunked->attributions.begin(), chunked->attributions.end(), 0.0f),
      1.0f, 1e-4);
}

// More rows than one model call takes: the same answers as one text at a time.
TEST(SentimentTest, ManyWindowsSpanSeveralModelCalls) {
  auto model = Load("bert-tiny");
  ASSERT_NE(model, nullptr);
  const SentimentClassifier& classifier = *model->classifier;
  std::vector<std::string> texts;
  for (int n : {60, 70, 80, 90, 100}) texts.push_back(LongText(n));
  auto together = classifier.Classify(texts, LongInput::kChunks, false);
  ASSERT_TRUE(together.ok()) << together.status();
  int rows = 0;
  for (const Classification& c : *together) rows += c.rows();
  EXPECT_GT(rows, SentimentClassifier::kMaxRowsPerCall);
  for (size_t i = 0; i < texts.size(); ++i) {
    auto alone = classifier.Classify({texts[i]}, LongInput::kChunks, false);
    ASSERT_TRUE(alone.ok());
    for (size_t l = 0; l < (*alone)[0].probabilities.size(); ++l) {
      EXPECT_NEAR((*together)[i].probabilities[l], (*alone)[0].probabilities[l], 1e-5);
    }
  }
}

}  // namespace
}  // namespace heed::pipelines
