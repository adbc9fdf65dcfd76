// BERT's tokenizer: the basic tokenizer (clean-up, CJK split, lower-casing
// and accent stripping when configured, punctuation split) followed by
// WordPiece's greedy longest match with "##" continuations, [CLS] ... [SEP].
#ifndef HEED_CORE_TOKENIZERS_WORDPIECE_TOKENIZER_H_
#define HEED_CORE_TOKENIZERS_WORDPIECE_TOKENIZER_H_

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizers/token.h"

namespace heed::tokenizers {

struct WordPieceOptions {
  bool lower_case = true;
  std::optional<bool> strip_accents;  // unset: follow lower_case
  bool split_chinese_chars = true;
  int max_chars_per_word = 100;
};

class WordPieceTokenizer {
 public:
  // vocab.txt, one piece per line; options usually from tokenizer_config.json
  // (see FromModelDir).
  static absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> FromVocabFile(
      const std::string& path, WordPieceOptions options);
  // <dir>/vocab.txt with do_lower_case, strip_accents and
  // tokenize_chinese_chars from <dir>/tokenizer_config.json if present.
  static absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> FromModelDir(
      const std::string& dir);

  // [CLS] pieces [SEP], offsets into `text`.
  std::vector<Token> Encode(absl::string_view text) const;
  // Pieces joined into words, special tokens skipped, spaces before
  // punctuation cleaned up as Hugging Face's decode does by default.
  std::string Decode(std::span<const int> ids) const;

  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  int pad_id() const { return pad_id_; }

 private:
  struct Char {
    std::string text;  // after lower-casing / accent stripping
    int begin, end;    // bytes of the original character
  };
  WordPieceTokenizer() = default;
  std::vector<std::vector<Char>> BasicTokenize(absl::string_view text) const;
  void WordPiece(const std::vector<Char>& word, std::vector<Token>* out) const;

  WordPieceOptions options_;
  std::vector<std::string> pieces_;
  absl::flat_hash_map<std::string, int> ids_;
  int unk_id_ = 0, cls_id_ = 0, sep_id_ = 0, pad_id_ = 0;
};

}  // namespace heed::tokenizers

#endif  // HEED_CORE_TOKENIZERS_WORDPIECE_TOKENIZER_H_
