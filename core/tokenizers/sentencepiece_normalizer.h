// SentencePiece's normalization: the model's precompiled character map (a
// Darts-clone double-array trie of replacement rules, e.g. NFKC), whitespace
// clean-up, a dummy prefix space and the "▁" escape, with a map from every
// normalized byte back to the original text (for token offsets).
#ifndef HEED_CORE_TOKENIZERS_SENTENCEPIECE_NORMALIZER_H_
#define HEED_CORE_TOKENIZERS_SENTENCEPIECE_NORMALIZER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizers/sentencepiece_model.h"

namespace heed::tokenizers {

class SentencePieceNormalizer {
 public:
  // Validates the character map; `model` must outlive the normalizer.
  static absl::StatusOr<SentencePieceNormalizer> Create(const SentencePieceModel& model,
                                                        absl::string_view source);

  // norm_to_orig has normalized->size() + 1 entries: the original offset of
  // each normalized byte, and the end.
  void Normalize(absl::string_view input, std::string* normalized,
                 std::vector<int>* norm_to_orig) const;

  // An identity normalizer; Create gives a real one.
  SentencePieceNormalizer() = default;

 private:
  // The replacement of the longest rule matching a prefix of `input` and the
  // bytes it consumes; without a rule, one character as is (or U+FFFD for one
  // malformed byte).
  std::pair<absl::string_view, int> NormalizePrefix(absl::string_view input) const;
  int LongestUserDefinedPrefix(absl::string_view input) const;

  const SentencePieceModel* model_ = nullptr;
  std::vector<uint32_t> trie_;      // double-array units
  absl::string_view replacements_;  // NUL-separated replacement strings
  std::vector<std::string> user_defined_;
};

}  // namespace heed::tokenizers

#endif  // HEED_CORE_TOKENIZERS_SENTENCEPIECE_NORMALIZER_H_
