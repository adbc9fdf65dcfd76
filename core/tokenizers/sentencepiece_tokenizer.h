// Our own SentencePiece encoder and decoder (unigram and BPE models, byte
// fallback, user-defined symbols), matching the reference library id for id
// (tests/core/tokenizers/sentencepiece_test.cc checks thousands of real
// sentences against python3-sentencepiece).
#ifndef HEED_CORE_TOKENIZERS_SENTENCEPIECE_TOKENIZER_H_
#define HEED_CORE_TOKENIZERS_SENTENCEPIECE_TOKENIZER_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizers/sentencepiece_model.h"
#include "core/tokenizers/sentencepiece_normalizer.h"
#include "core/tokenizers/token.h"

namespace heed::tokenizers {

class SentencePieceTokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> FromFile(
      const std::string& path);
  static absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> FromBytes(
      absl::string_view bytes, absl::string_view source);

  // The pieces of `text` with their SentencePiece ids and byte offsets in
  // `text`; no BOS/EOS.
  std::vector<Token> Encode(absl::string_view text) const;

  // Text of pieces (e.g. decoded from another vocabulary's ids): "▁" becomes a
  // space, the dummy prefix is dropped, byte pieces <0xNN> are reassembled.
  std::string DecodePieces(std::span<const std::string> pieces) const;
  std::string DecodeIds(std::span<const int> ids) const;

  int PieceToId(absl::string_view piece) const;  // unk_id if unknown
  const std::string& IdToPiece(int id) const { return model_.pieces[id].text; }
  int vocab_size() const { return static_cast<int>(model_.pieces.size()); }
  const SentencePieceModel& model() const { return model_; }

 private:
  using Segment = std::pair<absl::string_view, int>;  // normalized piece, id

  SentencePieceTokenizer(SentencePieceModel model, SentencePieceNormalizer normalizer);
  void Index();
  std::vector<Segment> EncodeUnigram(absl::string_view normalized) const;
  std::vector<Segment> EncodeBpe(absl::string_view normalized) const;
  bool IsType(int id, SentencePieceModel::PieceType type) const {
    return model_.pieces[id].type == type;
  }

  SentencePieceModel model_;
  SentencePieceNormalizer normalizer_;
  // Normal, user-defined and unused pieces (the ones segmentation may produce).
  absl::flat_hash_map<std::string, int> pieces_;
  // Control, unknown and byte pieces.
  absl::flat_hash_map<std::string, int> reserved_;
  int max_piece_bytes_ = 1;
  float min_score_ = 0.0f;
  float max_score_ = 0.0f;
};

}  // namespace heed::tokenizers

#endif  // HEED_CORE_TOKENIZERS_SENTENCEPIECE_TOKENIZER_H_
