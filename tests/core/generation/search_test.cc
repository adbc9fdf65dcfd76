// The step-wise search API on the tiny BART fixture: searches that start
// at different steps and share model calls (continuous batching) produce what
// they produce alone; sampling is reproducible by seed; bad options are errors.
#include "core/generation/search.h"

#include <memory>

#include "core/io/model_config.h"
#include "gtest/gtest.h"

namespace heed::generation {
namespace {

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = std::string(HEED_GOLDEN_MODELS_DIR) + "/bart-tiny";
    auto model = models::Seq2SeqModel::Load(dir, ops::ComputeType::kFloat32);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = std::move(*model);
    auto config = io::ReadModelConfig(dir);
    auto defaults = io::ReadGenerationDefaults(dir);
    ASSERT_TRUE(config.ok() && defaults.ok());
    params_ = ParamsFromModel(*config, *defaults);
  }
  std::vector<int32_t> Input(int seed) const {
    std::vector<int32_t> ids = {0};
    for (int i = 0; i < 5 + seed; ++i) ids.push_back(100 + 37 * seed + 11 * i);
    ids.push_back(2);
    return ids;
  }
  std::unique_ptr<models::Seq2SeqModel> model_;
  GenerationParams params_;
};

TEST_F(SearchTest, ContinuousBatchingMatchesRunningAlone) {
  SearchOptions greedy, beam, sample;
  beam.num_beams = 3;
  beam.num_return_sequences = 2;
  sample.sampling = SamplingOptions{.temperature = 0.8f, .top_k = 20, .seed = 42};
  sample.num_return_sequences = 2;
  const std::vector<SearchOptions> options = {greedy, beam, sample};
  std::vector<std::vector<Hypothesis>> alone;
  for (size_t i = 0; i < options.size(); ++i) {
    auto result = Generate(*model_, Input(i), params_, options[i]);
    ASSERT_TRUE(result.ok()) << result.status();
    alone.push_back(*result);
  }
  // Start the searches two steps apart and step all active ones together.
  std::vector<std::unique_ptr<Search>> searches;
  std::vector<Search*> active;
  for (int step = 0; step < 100; ++step) {
    if (step % 2 == 0 && searches.size() < options.size()) {
      const size_t i = searches.size();
      auto encoder = model_->Encode(Input(i));
      ASSERT_TRUE(encoder.ok());
      auto search = StartSearch(*model_, *encoder, params_, options[i]);
      ASSERT_TRUE(search.ok()) << search.status();
      active.push_back(search->get());
      searches.push_back(std::move(*search));
    }
    ASSERT_TRUE(StepSearches(*model_, active).ok());
  }
  for (size_t i = 0; i < searches.size(); ++i) {
    ASSERT_TRUE(searches[i]->done());
    const std::vector<Hypothesis> together = searches[i]->Results();
    ASSERT_EQ(together.size(), alone[i].size());
    for (size_t h = 0; h < together.size(); ++h) {
      EXPECT_EQ(together[h].ids, alone[i][h].ids) << "search " << i;
      EXPECT_NEAR(together[h].score, alone[i][h].score, 1e-4);
    }
  }
}

TEST_F(SearchTest, SamplingIsReproducibleBySeed) {
  SearchOptions options;
  options.sampling = SamplingOptions{.temperature = 1.5f, .seed = 1234};
  auto a = Generate(*model_, Input(1), params_, options);
  auto b = Generate(*model_, Input(1), params_, options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0].ids, (*b)[0].ids);
  // top_k = 1 leaves only the best token: greedy.
  options.sampling->top_k = 1;
  auto top1 = Generate(*model_, Input(1), params_, options);
  auto greedy = Generate(*model_, Input(1), params_, {});
  ASSERT_TRUE(top1.ok() && greedy.ok());
  EXPECT_EQ((*top1)[0].ids, (*greedy)[0].ids);
}

TEST_F(SearchTest, StreamingTokensOfGreedyGrowStepByStep) {
  auto encoder = model_->Encode(Input(0));
  ASSERT_TRUE(encoder.ok());
  auto search = StartSearch(*model_, *encoder, params_, {});
  ASSERT_TRUE(search.ok());
  Search* searches[1] = {search->get()};
  size_t previous = 0;
  while (!(*search)->done()) {
    ASSERT_TRUE(StepSearches(*model_, searches).ok());
    const size_t now = (*search)->FinalTokens().size();
    EXPECT_EQ(now, previous + 1);
    previous = now;
  }
}

TEST_F(SearchTest, RejectsContradictoryOptions) {
  auto encoder = model_->Encode(Input(0));
  ASSERT_TRUE(encoder.ok());
  SearchOptions options;
  options.num_beams = 2;
  options.sampling = SamplingOptions{};
  EXPECT_EQ(StartSearch(*model_, *encoder, params_, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.sampling.reset();
  options.num_return_sequences = 3;
  EXPECT_EQ(StartSearch(*model_, *encoder, params_, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = {};
  options.sampling = SamplingOptions{.temperature = 0.0f};
  EXPECT_EQ(StartSearch(*model_, *encoder, params_, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace heed::generation
