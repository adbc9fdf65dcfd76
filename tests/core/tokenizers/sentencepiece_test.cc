// Our SentencePiece encoder against python3-sentencepiece, id for id, on real
// sentences read from ../shared/data (ids in tests/golden/tokenizers were
// written by tools/reference/make_tokenizer_fixtures.py) and on tricky texts.
#include "core/tokenizers/sentencepiece_tokenizer.h"

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace heed::tokenizers {
namespace {

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> ReadGzipLines(const std::string& path, int column, size_t limit) {
  std::vector<std::string> lines;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return lines;
  std::string line;
  char buffer[1 << 16];
  while (lines.size() < limit && gzgets(file, buffer, sizeof(buffer)) != nullptr) {
    line += buffer;
    if (line.empty() || line.back() != '\n') continue;
    line.pop_back();
    if (column >= 0) {
      std::vector<std::string> parts = absl::StrSplit(line, '\t');
      if (parts.size() == 2) lines.push_back(parts[column]);
    } else {
      lines.push_back(line);
    }
    line.clear();
  }
  gzclose(file);
  return lines;
}

std::vector<int> Ids(const std::vector<Token>& tokens) {
  std::vector<int> ids;
  for (const auto& t : tokens) ids.push_back(t.id);
  return ids;
}

std::vector<int> ParseIds(const std::string& line) {
  std::vector<int> ids;
  for (absl::string_view s : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    ids.push_back(std::stoi(std::string(s)));
  }
  return ids;
}

std::unique_ptr<SentencePieceTokenizer> Load(const std::string& name) {
  auto tokenizer = SentencePieceTokenizer::FromFile(std::string(HEED_GOLDEN_DIR) + "/" + name +
                                                    ".model");
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
}

class SentencePieceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SentencePieceTest, MatchesReferenceOnRealSentences) {
  const std::string data = HEED_SHARED_DATA_DIR;
  if (!std::filesystem::exists(data)) {
    if (std::getenv("CI") != nullptr) FAIL() << data << " is missing";
    GTEST_SKIP() << data << " is missing (the corpora live beside the repository)";
  }
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
    const std::vector<std::string> golden = ReadLines(std::string(HEED_GOLDEN_DIR) + "/" +
                                                      GetParam() + "." + corpus.name + ".ids");
    ASSERT_EQ(texts.size(), golden.size()) << corpus.name;
    int mismatches = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::vector<Token> tokens = tokenizer->Encode(texts[i]);
      if (Ids(tokens) != ParseIds(golden[i]) && ++mismatches <= 5) {
        std::vector<std::string> pieces;
        for (const auto& t : tokens) pieces.push_back(t.piece);
        ADD_FAILURE() << corpus.name << " line " << i << ": \"" << texts[i] << "\"\n  heed: "
                      << absl::StrJoin(Ids(tokens), " ") << " (" << absl::StrJoin(pieces, "|")
                      << ")\n  spm:  " << golden[i];
      }
    }
    EXPECT_EQ(mismatches, 0) << corpus.name;
    total += texts.size();
  }
  EXPECT_EQ(total, 5000u);
}

TEST_P(SentencePieceTest, MatchesReferenceOnTrickyTexts) {
  auto tokenizer = Load(GetParam());
  ASSERT_NE(tokenizer, nullptr);
  const std::string dir = HEED_GOLDEN_DIR;
  const std::vector<std::string> texts = ReadLines(dir + "/tricky.txt");
  const std::vector<std::string> ids = ReadLines(dir + "/" + GetParam() + ".tricky.ids");
  const std::vector<std::string> decoded = ReadLines(dir + "/" + GetParam() + ".tricky.decoded");
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
  std::ifstream in(std::string(HEED_GOLDEN_DIR) + "/unigram.model", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const std::string model = bytes.str();
  auto truncated = SentencePieceTokenizer::FromBytes(model.substr(0, model.size() / 2), "half");
  EXPECT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("half"), std::string::npos);
  EXPECT_EQ(SentencePieceTokenizer::FromFile("/nonexistent.model").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace heed::tokenizers
