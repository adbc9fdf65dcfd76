// Our SentencePiece encoder against python3-sentencepiece, id for id, on real
// sentences read from ../shared/data (ids in tests/golden/tokenizers were
// written by tools/reference/make_tokenizer_fixtures.py) and on tricky texts.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/tokenizers/sentencepiece_tokenizer.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizers/golden_files.h"

namespace heed::tokenizers {
namespace {

std::unique_ptr<SentencePieceTokenizer> Load(const std::string& name) {
  auto tokenizer = SentencePieceTokenizer::FromFile(GoldenDir() + "/" + name + ".model");
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
}

class SentencePieceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SentencePieceTest, MatchesReferenceOnRealSentences) {
  const std::string data = SharedDataDir();
  if (data.empty()) GTEST_SKIP() << "the corpora are not beside the repository";
  auto tokenizer = Load(GetParam());
  ASSERT_NE(tokenizer, nullptr);
  struct Corpus {
    const char* name;
    const char* path;
    int column;
    size_t lines;
  };
  const Corpus corpora[] = {
      {"flickr2016_en", "multi30k/test_2016_flickr.en.gz", -1, 1000},
      {"flickr2016_de", "multi30k/test_2016_flickr.de.gz", -1, 1000},
      {"gettext_en", "debian/gettext-en-de.tsv.gz", 0, 1500},
      {"gettext_de", "debian/gettext-en-de.tsv.gz", 1, 1500},
  };
  size_t total = 0;
  for (const Corpus& corpus : corpora) {
    const std::vector<std::string> texts =
        ReadGzipLines(data + "/" + corpus.path, corpus.column, corpus.lines);
    const std::vector<std::string> golden =
        ReadLines(GoldenDir() + "/" + GetParam() + "." + corpus.name + ".ids");
    ASSERT_EQ(texts.size(), golden.size()) << corpus.name;
    const int mismatches =
        CountMismatches(corpus.name, texts, golden,
                        [&](const std::string& text) { return tokenizer->Encode(text); });
    EXPECT_EQ(mismatches, 0) << corpus.name;
    total += texts.size();
  }
  EXPECT_EQ(total, 5000u);
}

TEST_P(SentencePieceTest, MatchesReferenceOnTrickyTexts) {
  auto tokenizer = Load(GetParam());
  ASSERT_NE(tokenizer, nullptr);
  const std::string dir = GoldenDir();
  const std::vector<std::string> texts = ReadLines(dir + "/tricky.txt");
  const std::vector<std::string> ids = ReadLines(dir + "/" + GetParam() + ".tricky.ids");
  const std::vector<std::string> decoded =
      ReadLines(dir + "/" + GetParam() + ".tricky.decoded");
  ASSERT_EQ(texts.size(), ids.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<Token> tokens = tokenizer->Encode(texts[i]);
    EXPECT_EQ(absl::StrJoin(Ids(tokens), " "), ids[i]) << "\"" << texts[i] << "\"";
    EXPECT_EQ(tokenizer->DecodeIds(Ids(tokens)), decoded[i]) << "\"" << texts[i] << "\"";
    int previous_end = 0;
    for (const Token& t : tokens) {  // offsets inside the text, in order
      EXPECT_LE(previous_end, t.begin);
      EXPECT_LE(t.begin, t.end);
      EXPECT_LE(t.end, static_cast<int>(texts[i].size()));
      previous_end = t.begin;
    }
  }
}

TEST_P(SentencePieceTest, EmptyAndWhitespaceOnly) {
  auto tokenizer = Load(GetParam());
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_TRUE(tokenizer->Encode("").empty());
  EXPECT_TRUE(tokenizer->Encode("   \t ").empty());
}

INSTANTIATE_TEST_SUITE_P(Models, SentencePieceTest, ::testing::Values("unigram", "bpe"));

TEST(SentencePieceModelTest, RejectsMalformedModels) {
  EXPECT_FALSE(SentencePieceTokenizer::FromBytes("not a model at all", "x").ok());
  EXPECT_FALSE(SentencePieceTokenizer::FromBytes("", "x").ok());
  std::ifstream in(GoldenDir() + "/unigram.model", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const std::string model = bytes.str();
  auto truncated =
      SentencePieceTokenizer::FromBytes(model.substr(0, model.size() / 2), "half");
  EXPECT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("half"), std::string::npos);
  EXPECT_EQ(SentencePieceTokenizer::FromFile("/nonexistent.model").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace heed::tokenizers
