// The tokenizer of a model directory as its pipeline uses it: text in, ids
// with the model's special tokens and offsets out, and generated ids back to
// text. One implementation per family's Hub files.
#ifndef HEED_CORE_PIPELINES_TEXT_TOKENIZER_H_
#define HEED_CORE_PIPELINES_TEXT_TOKENIZER_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/model_config.h"
#include "core/tokenizers/token.h"

namespace heed::pipelines {

class TextTokenizer {
 public:
  virtual ~TextTokenizer() = default;
  // Ids with special tokens (Marian: ... </s>; BART: <s> ... </s>; BERT:
  // [CLS] ... [SEP]); offsets are bytes of `text`.
  virtual std::vector<tokenizers::Token> Encode(const std::string& text) const = 0;
  // Text of generated ids, special tokens skipped.
  virtual std::string Decode(std::span<const int> ids) const = 0;
  // The piece an id stands for (for alignments), "" if out of range.
  virtual std::string Piece(int id) const = 0;
};

// Marian: source.spm + target.spm + vocab.json; BART: vocab.json + merges.txt;
// BERT/DistilBERT: vocab.txt (+ tokenizer_config.json).
absl::StatusOr<std::unique_ptr<TextTokenizer>> LoadTokenizer(
    const std::string& model_dir, const io::ModelConfig& config);

}  // namespace heed::pipelines

#endif  // HEED_CORE_PIPELINES_TEXT_TOKENIZER_H_
