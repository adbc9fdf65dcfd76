// The bundled Marian model's SentencePiece files (source.spm, target.spm)
// against python3-sentencepiece, id for id, on every line of ../shared/data
// and on digit runs, decimals and repeated characters, where the Viterbi
// lattice has exact ties. Written by
// tools/reference/make_bundled_spm_fixtures.py: the corpus lines as one
// FNV-1a 64 hash per block of 100 lines, tests/golden/tokenizers/ties.txt as
// ids.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/tokenizers/sentencepiece_tokenizer.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizers/golden_files.h"

namespace heed::tokenizers {
namespace {

constexpr size_t kBlock = 100;
// Under AddressSanitizer one block in four: the plain build checks every line,
// and what the sanitizer run looks for, memory errors, a quarter of the corpora
// (45,000 real lines) still exercises, in a quarter of the two minutes.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kBlockStride = 4;
#else
constexpr size_t kBlockStride = 1;
#endif

std::string FixtureDir() { return GoldenDir() + "/marian-en-de-demo"; }

uint64_t Fnv1a64(const std::string& data) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char byte : data) {
    h ^= byte;
    h *= 0x100000001B3ull;
  }
  return h;
}

class BundledSentencePieceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto tokenizer = SentencePieceTokenizer::FromFile(
        absl::StrCat(HEED_MARIAN_DIR, "/", GetParam(), ".spm"));
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    tokenizer_ = std::move(*tokenizer);
  }
  std::unique_ptr<SentencePieceTokenizer> tokenizer_;
};

TEST_P(BundledSentencePieceTest, TiesAreBrokenAsTheLibraryBreaksThem) {
  const std::vector<std::string> texts = ReadLines(GoldenDir() + "/ties.txt");
  const std::vector<std::string> ids =
      ReadLines(absl::StrCat(FixtureDir(), "/", GetParam(), ".ties.ids"));
  ASSERT_EQ(texts.size(), ids.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<Token> tokens = tokenizer_->Encode(texts[i]);
    EXPECT_EQ(absl::StrJoin(Ids(tokens), " "), ids[i])
        << "\"" << texts[i] << "\": heed " << Describe(tokens);
  }
}

TEST_P(BundledSentencePieceTest, EveryLineOfTheCorporaMatches) {
  const std::string data = SharedDataDir();
  if (data.empty()) GTEST_SKIP() << "the corpora are not beside the repository";
  const std::pair<const char*, const char*> corpora[] = {
      {"descriptions", "debian/descriptions.tsv.gz"},
      {"gettext", "debian/gettext-en-de.tsv.gz"},
      {"flickr2016_de", "multi30k/test_2016_flickr.de.gz"},
      {"flickr2016_en", "multi30k/test_2016_flickr.en.gz"},
      {"flickr2017_de", "multi30k/test_2017_flickr.de.gz"},
      {"flickr2017_en", "multi30k/test_2017_flickr.en.gz"},
      {"train_de", "multi30k/train.de.gz"},
      {"train_en", "multi30k/train.en.gz"},
      {"val_de", "multi30k/val.de.gz"},
      {"val_en", "multi30k/val.en.gz"},
      {"vader_amazon", "vader/amazonReviewSnippets_GroundTruth.txt.gz"},
      {"vader_movies", "vader/movieReviewSnippets_GroundTruth.txt.gz"},
      {"vader_nyt", "vader/nytEditorialSnippets_GroundTruth.txt.gz"},
      {"vader_tweets", "vader/tweets_GroundTruth.txt.gz"},
  };
  size_t lines = 0;
  for (const auto& [name, path] : corpora) {
    const std::vector<std::string> texts =
        ReadGzipLines(absl::StrCat(data, "/", path), -1, SIZE_MAX);
    const std::vector<std::string> golden =
        ReadLines(absl::StrCat(FixtureDir(), "/", GetParam(), ".", name, ".fnv"));
    ASSERT_EQ(golden.size(), (texts.size() + kBlock - 1) / kBlock) << name;
    int bad_blocks = 0;
    for (size_t b = 0; b < golden.size(); b += kBlockStride) {
      std::string block;
      for (size_t i = b * kBlock; i < std::min(texts.size(), (b + 1) * kBlock); ++i) {
        absl::StrAppend(&block, absl::StrJoin(Ids(tokenizer_->Encode(texts[i])), " "),
                        "\n");
        ++lines;
      }
      const std::vector<std::string> fields = absl::StrSplit(golden[b], ' ');
      ASSERT_EQ(fields.size(), 2u) << golden[b];
      uint64_t expected = 0;
      ASSERT_TRUE(absl::SimpleHexAtoi(fields[1], &expected)) << golden[b];
      if (Fnv1a64(block) != expected && ++bad_blocks <= 3) {
        ADD_FAILURE() << name << " lines " << b * kBlock << "-" << (b + 1) * kBlock - 1
                      << " differ from the library; see a line with "
                         "tools/reference/make_bundled_spm_fixtures.py --show "
                      << name << ":LINE";
      }
    }
    EXPECT_EQ(bad_blocks, 0) << name;
  }
  std::printf("%zu lines, id for id\n", lines);
}

INSTANTIATE_TEST_SUITE_P(Marian, BundledSentencePieceTest,
                         ::testing::Values("source", "target"));

}  // namespace
}  // namespace heed::tokenizers
