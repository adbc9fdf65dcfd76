#include "core/generation/logits_processors.h"

#include <cmath>
#include <random>
#include <vector>

#include "core/generation/token_scores.h"
#include "gtest/gtest.h"

namespace heed::generation {
namespace {

std::vector<int> Forbidden(const GenerationParams& params,
                           const std::vector<int>& sequence, int vocab = 10) {
  std::vector<float> scores(vocab, 0.0f);
  ApplyLogitsProcessors(params, sequence, scores);
  std::vector<int> out;
  for (int i = 0; i < vocab; ++i) {
    if (std::isinf(scores[i])) out.push_back(i);
  }
  return out;
}

TEST(LogitsProcessorsTest, MinLengthForbidsEos) {
  GenerationParams p;
  p.eos_token_id = 2;
  p.min_length = 3;
  EXPECT_EQ(Forbidden(p, {0, 5}), std::vector<int>{2});
  EXPECT_TRUE(Forbidden(p, {0, 5, 6}).empty());
}

TEST(LogitsProcessorsTest, NoRepeatNgrams) {
  GenerationParams p;
  p.eos_token_id = 9;
  p.no_repeat_ngram_size = 2;
  // "4 5" occurred; after another 4, 5 would repeat it.
  EXPECT_EQ(Forbidden(p, {0, 4, 5, 4}), std::vector<int>{5});
  p.no_repeat_ngram_size = 3;
  EXPECT_EQ(Forbidden(p, {0, 4, 5, 6, 4, 5}), std::vector<int>{6});
}

TEST(LogitsProcessorsTest, NoAdjacentRepeatNgrams) {
  GenerationParams p;
  p.eos_token_id = 9;
  p.no_adjacent_repeat_ngram_size = 1;
  EXPECT_EQ(Forbidden(p, {0, 4, 5}), std::vector<int>{5});  // no "5 5"
  EXPECT_TRUE(Forbidden(p, {0}).empty());  // the start token is not generated text
  p.no_adjacent_repeat_ngram_size = 3;
  // 4 ("4 4") and 5 ("6 4 5 6 4 5") would follow themselves; "4 5 4 5" too.
  EXPECT_EQ(Forbidden(p, {0, 6, 4, 5, 6, 4}), (std::vector<int>{4, 5}));
  EXPECT_EQ(Forbidden(p, {0, 4, 5, 4}), (std::vector<int>{4, 5}));
  // A repeat with a token between is allowed; and it needs both copies
  // inside the generated text.
  EXPECT_EQ(Forbidden(p, {0, 4, 5, 6}), std::vector<int>{6});
  EXPECT_EQ(Forbidden(p, {4, 5, 4}), (std::vector<int>{4}));
}

TEST(LogitsProcessorsTest, BadWordsSingleAndSequences) {
  GenerationParams p;
  p.eos_token_id = 9;
  p.bad_words_ids = {{7}, {3, 4}};
  EXPECT_EQ(Forbidden(p, {0, 1}), std::vector<int>{7});
  EXPECT_EQ(Forbidden(p, {0, 3}), (std::vector<int>{4, 7}));
}

TEST(LogitsProcessorsTest, ForcedBosAndEos) {
  GenerationParams p;
  p.eos_token_id = 2;
  p.max_length = 5;
  p.forced_bos_token_id = 0;
  p.forced_eos_token_id = 2;
  EXPECT_EQ(Forbidden(p, {2}).size(), 9u);           // everything but 0
  EXPECT_EQ(Forbidden(p, {2, 0, 5, 6}).size(), 9u);  // everything but 2
  EXPECT_TRUE(Forbidden(p, {2, 0, 5}).empty());
}

// Hugging Face's rule: positive scores of seen tokens are divided by the
// penalty, negative ones multiplied, each token once however often it occurs.
TEST(LogitsProcessorsTest, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  std::vector<float> scores = {2.0f, -1.0f, 3.0f, -4.0f, 0.5f};
  ApplyRepetitionPenalty(2.0f, std::vector<int>{0, 1, 1, 3, 99}, scores);
  EXPECT_EQ(scores, (std::vector<float>{1.0f, -2.0f, 3.0f, -8.0f, 0.5f}));
  // The next call (next step, next beam) starts from no marks.
  std::vector<float> again = {2.0f, -1.0f, 3.0f, -4.0f, 0.5f};
  ApplyRepetitionPenalty(2.0f, std::vector<int>{3, 0}, again);
  EXPECT_EQ(again, (std::vector<float>{1.0f, -1.0f, 3.0f, -8.0f, 0.5f}));
  std::vector<float> unchanged = {2.0f, -1.0f};
  ApplyRepetitionPenalty(1.0f, std::vector<int>{0, 1}, unchanged);
  EXPECT_EQ(unchanged, (std::vector<float>{2.0f, -1.0f}));
}

TEST(LogitsProcessorsTest, EncoderRepetitionPenaltyFavoursSourceTokensFirst) {
  GenerationParams params;
  params.encoder_repetition_penalty = 2.0f;
  params.encoder_input_ids = {0, 1, 1, 99};
  params.repetition_penalty = 4.0f;
  std::vector<float> scores = {2.0f, -1.0f, 3.0f, -4.0f};
  // Source tokens 0 and 1 are favoured once each (duplicates and ids beyond
  // the vocabulary ignored); then generated token 0 is penalized.
  ApplyRepetitionPenalties(params, std::vector<int>{0}, scores);
  EXPECT_EQ(scores, (std::vector<float>{1.0f, -0.5f, 3.0f, -4.0f}));
}

TEST(TokenScoresTest, SamplingFollowsTheDistributionAndTheWarpers) {
  auto frequencies = [](SamplingOptions options) {
    std::mt19937_64 rng(7);
    std::vector<double> counts(3, 0);
    for (int i = 0; i < 20000; ++i) {
      std::vector<float> scores = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
      ++counts[SampleToken(scores, options, rng)];
    }
    for (double& c : counts) c /= 20000;
    return counts;
  };
  const auto plain = frequencies({});
  EXPECT_NEAR(plain[0], 0.5, 0.02);
  EXPECT_NEAR(plain[1], 0.3, 0.02);
  EXPECT_NEAR(plain[2], 0.2, 0.02);
  const auto top_k = frequencies({.top_k = 2});
  EXPECT_EQ(top_k[2], 0.0);
  EXPECT_NEAR(top_k[0], 0.5 / 0.8, 0.02);
  const auto top_p = frequencies({.top_p = 0.6f});  // 0.5 < 0.6 <= 0.8: two tokens
  EXPECT_EQ(top_p[2], 0.0);
  const auto cold = frequencies({.temperature = 0.05f});
  EXPECT_GT(cold[0], 0.99);
}

}  // namespace
}  // namespace heed::generation
