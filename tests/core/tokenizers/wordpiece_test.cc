// BERT's WordPiece tokenizer against the independent Python version in
// tools/reference/hf_tokenizers.py, on real VADER sentences and tricky texts.
#include "absl/strings/str_join.h"
#include "core/tokenizers/wordpiece_tokenizer.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizers/golden_files.h"

namespace heed::tokenizers {
namespace {

std::unique_ptr<WordPieceTokenizer> Load() {
  auto t = WordPieceTokenizer::FromModelDir(GoldenDir() + "/wordpiece");
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

TEST(WordPieceTest, MatchesReferenceOnRealSentences) {
  const std::string data = SharedDataDir();
  if (data.empty()) GTEST_SKIP() << "the corpora are not beside the repository";
  auto tokenizer = Load();
  ASSERT_NE(tokenizer, nullptr);
  size_t total = 0;
  for (const char* name : {"movieReviewSnippets", "amazonReviewSnippets",
                           "nytEditorialSnippets", "tweets"}) {
    const std::vector<std::string> texts = ReadGzipLines(
        data + "/vader/" + name + "_GroundTruth.txt.gz", /*column=*/2, 1000);
    const std::vector<std::string> golden =
        ReadLines(GoldenDir() + "/wordpiece." + name + ".ids");
    ASSERT_EQ(texts.size(), golden.size()) << name;
    const int mismatches =
        CountMismatches(name, texts, golden,
                        [&](const std::string& text) { return tokenizer->Encode(text); });
    EXPECT_EQ(mismatches, 0) << name;
    total += texts.size();
  }
  EXPECT_EQ(total, 4000u);
}

TEST(WordPieceTest, MatchesReferenceOnTrickyTexts) {
  auto tokenizer = Load();
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<std::string> texts = ReadLines(GoldenDir() + "/tricky.txt");
  const std::vector<std::string> golden =
      ReadLines(GoldenDir() + "/wordpiece.tricky.ids");
  ASSERT_EQ(texts.size(), golden.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<Token> tokens = tokenizer->Encode(texts[i]);
    EXPECT_EQ(absl::StrJoin(Ids(tokens), " "), golden[i])
        << "\"" << texts[i] << "\": " << Describe(tokens);
  }
}

TEST(WordPieceTest, OffsetsPointIntoTheText) {
  auto tokenizer = Load();
  ASSERT_NE(tokenizer, nullptr);
  const std::string text = "The movie was GREAT, wasn't it?";
  const std::vector<Token> tokens = tokenizer->Encode(text);
  ASSERT_GE(tokens.size(), 4u);
  EXPECT_EQ(tokens.front().piece, "[CLS]");
  EXPECT_EQ(tokens.back().piece, "[SEP]");
  EXPECT_EQ(text.substr(tokens[1].begin, tokens[1].end - tokens[1].begin), "The");
  for (const Token& t : tokens) {
    EXPECT_LE(t.begin, t.end);
    EXPECT_LE(t.end, static_cast<int>(text.size()));
  }
}

TEST(WordPieceTest, LongWordsAreUnknown) {
  auto tokenizer = Load();
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<Token> tokens = tokenizer->Encode(std::string(101, 'a'));
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[1].piece, "[UNK]");
}

TEST(WordPieceTest, DecodeJoinsContinuations) {
  auto tokenizer = Load();
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<Token> tokens = tokenizer->Encode("I loved the movie, really.");
  EXPECT_EQ(tokenizer->Decode(Ids(tokens)), "i loved the movie, really.");
}

TEST(WordPieceTest, MissingVocabulary) {
  EXPECT_EQ(WordPieceTokenizer::FromModelDir("/nonexistent").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace heed::tokenizers
