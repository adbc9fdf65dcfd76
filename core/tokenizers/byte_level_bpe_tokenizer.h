// GPT-2's byte-level BPE as BART uses it: GPT-2's pre-tokenization pattern,
// every byte mapped to a printable character, merges applied by rank, and
// <s> ... </s> around the pieces.
#ifndef HEED_CORE_TOKENIZERS_BYTE_LEVEL_BPE_TOKENIZER_H_
#define HEED_CORE_TOKENIZERS_BYTE_LEVEL_BPE_TOKENIZER_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizers/token.h"

namespace heed::tokenizers {

class ByteLevelBpeTokenizer {
 public:
  // vocab.json (piece → id) and merges.txt (one "a b" merge per line, by rank).
  static absl::StatusOr<std::unique_ptr<ByteLevelBpeTokenizer>> FromFiles(
      const std::string& vocab_path, const std::string& merges_path);

  // <s> pieces </s>, offsets into `text`.
  std::vector<Token> Encode(absl::string_view text) const;
  // Special tokens skipped; bytes that are not valid UTF-8 become U+FFFD.
  std::string Decode(std::span<const int> ids) const;

  // GPT-2's pre-tokenization: contractions, letters, numbers, other symbols,
  // whitespace, each optionally with one leading space. Exposed for tests.
  static std::vector<absl::string_view> PreTokenize(absl::string_view text);

  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  int bos_id() const { return bos_id_; }
  int eos_id() const { return eos_id_; }
  int pad_id() const { return pad_id_; }

 private:
  ByteLevelBpeTokenizer() = default;
  // Byte-mapped pieces of one pre-token, merges applied.
  std::vector<std::string> Merge(const std::string& mapped) const;

  std::vector<std::string> pieces_;  // by id
  absl::flat_hash_map<std::string, int> ids_;
  absl::flat_hash_map<std::string, int> merge_rank_;  // "a b" → rank
  std::string byte_to_char_[256];                     // UTF-8 of each byte's character
  absl::flat_hash_map<int, uint8_t> char_to_byte_;    // code point → byte
  int bos_id_ = 0, eos_id_ = 2, pad_id_ = 1, unk_id_ = 3;
};

}  // namespace heed::tokenizers

#endif  // HEED_CORE_TOKENIZERS_BYTE_LEVEL_BPE_TOKENIZER_H_
