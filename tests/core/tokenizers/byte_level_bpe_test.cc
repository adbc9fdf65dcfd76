// Byte-level BPE (GPT-2/BART) against the independent Python version in
// tools/reference/hf_tokenizers.py, on real Debian package descriptions.
#include "absl/strings/str_join.h"
#include "core/tokenizers/byte_level_bpe_tokenizer.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizers/golden_files.h"

namespace heed::tokenizers {
namespace {

std::unique_ptr<ByteLevelBpeTokenizer> Load() {
  const std::string dir = GoldenDir() + "/bytelevel";
  auto t = ByteLevelBpeTokenizer::FromFiles(dir + "/vocab.json", dir + "/merges.txt");
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

TEST(ByteLevelBpeTest, MatchesReferenceOnRealText) {
  const std::string data = SharedDataDir();
  if (data.empty()) GTEST_SKIP() << "the corpora are not beside the repository";
  auto tokenizer = Load();
  ASSERT_NE(tokenizer, nullptr);
  for (auto [name, column] : {std::pair{"descriptions", 0}, std::pair{"synopses", 1}}) {
    const std::vector<std::string> texts =
        ReadGzipLines(data + "/debian/descriptions.tsv.gz", column, 1000);
    const std::vector<std::string> golden =
        ReadLines(GoldenDir() + "/bytelevel." + name + ".ids");
    ASSERT_EQ(texts.size(), golden.size()) << name;
    const int mismatches =
        CountMismatches(name, texts, golden, [&](const std::string& text) {
          std::vector<Token> tokens = tokenizer->Encode(text);
          // Every text survives the round trip.
          EXPECT_EQ(tokenizer->Decode(Ids(tokens)), text);
          return tokens;
        });
    EXPECT_EQ(mismatches, 0) << name;
  }
}

TEST(ByteLevelBpeTest, MatchesReferenceOnTrickyTexts) {
  auto tokenizer = Load();
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<std::string> texts = ReadLines(GoldenDir() + "/tricky.txt");
  const std::vector<std::string> golden =
      ReadLines(GoldenDir() + "/bytelevel.tricky.ids");
  const std::vector<std::string> decoded =
      ReadLines(GoldenDir() + "/bytelevel.tricky.decoded");
  ASSERT_EQ(texts.size(), golden.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<Token> tokens = tokenizer->Encode(texts[i]);
    EXPECT_EQ(absl::StrJoin(Ids(tokens), " "), golden[i])
        << "\"" << texts[i] << "\": " << Describe(tokens);
    EXPECT_EQ(tokenizer->Decode(Ids(tokens)), decoded[i]);
    for (const Token& t : tokens) EXPECT_LE(t.end, static_cast<int>(texts[i].size()));
  }
}

TEST(ByteLevelBpeTest, PreTokenizationFollowsGpt2) {
  const auto pieces = ByteLevelBpeTokenizer::PreTokenize("Hello  world's 42x!?\n\nend  ");
  // As Python's regex module splits it with GPT-2's pattern.
  EXPECT_EQ(absl::StrJoin(pieces, "|"), "Hello| | world|'s| 42|x|!?|\n|\n|end|  ");
}

TEST(ByteLevelBpeTest, MissingFiles) {
  EXPECT_FALSE(
      ByteLevelBpeTokenizer::FromFiles("/nonexistent.json", "/nonexistent.txt").ok());
}

}  // namespace
}  // namespace heed::tokenizers
