#include "core/pipelines/text_tokenizer.h"

#include <filesystem>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"
#include "core/tokenizers/byte_level_bpe_tokenizer.h"
#include "core/tokenizers/sentencepiece_tokenizer.h"
#include "core/tokenizers/wordpiece_tokenizer.h"

namespace heed::pipelines {
namespace {

using tokenizers::Token;

// MarianTokenizer: SentencePiece pieces of the source model, looked up in
// the shared vocab.json (unknown pieces → <unk>), then </s>. Output ids map
// back to pieces through vocab.json and to text through the target model.
class MarianTokenizer final : public TextTokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<TextTokenizer>> Load(const std::string& dir) {
    auto source = tokenizers::SentencePieceTokenizer::FromFile(dir + "/source.spm");
    if (!source.ok()) return source.status();
    auto target = tokenizers::SentencePieceTokenizer::FromFile(dir + "/target.spm");
    if (!target.ok()) return target.status();
    auto vocab = io::ReadJsonFile(dir + "/vocab.json");
    if (!vocab.ok()) return vocab.status();
    auto t = std::unique_ptr<MarianTokenizer>(new MarianTokenizer);
    t->source_ = std::move(*source);
    t->target_ = std::move(*target);
    for (const auto& [piece, id] : vocab->items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
          id.get<int64_t>() >= (1 << 24)) {
        return absl::InvalidArgumentError(
            absl::StrCat(dir, "/vocab.json: bad id of ", piece));
      }
      t->ids_[piece] = id.get<int>();
      if (id.get<int>() >= static_cast<int>(t->pieces_.size()))
        t->pieces_.resize(id.get<int>() + 1);
      t->pieces_[id.get<int>()] = piece;
    }
    for (const char* special : {"</s>", "<unk>", "<pad>"}) {
      if (!t->ids_.contains(special)) {
        return absl::InvalidArgumentError(
            absl::StrCat(dir, "/vocab.json has no ", special));
      }
    }
    return std::unique_ptr<TextTokenizer>(std::move(t));
  }

  std::vector<Token> Encode(const std::string& text) const override {
    std::vector<Token> tokens = source_->Encode(text);
    const int unk = ids_.at("<unk>");
    for (Token& t : tokens) {
      auto it = ids_.find(t.piece);
      t.id = it != ids_.end() ? it->second : unk;
    }
    const int end = static_cast<int>(text.size());
    tokens.push_back({ids_.at("</s>"), "</s>", end, end});
    return tokens;
  }

  std::string Decode(std::span<const int> ids) const override {
    std::vector<std::string> pieces;
    for (int id : ids) {
      const std::string piece = Piece(id);
      if (piece.empty() || piece == "</s>" || piece == "<pad>" || piece == "<unk>")
        continue;
      pieces.push_back(piece);
    }
    return target_->DecodePieces(pieces);
  }

  std::string Piece(int id) const override {
    return id >= 0 && id < static_cast<int>(pieces_.size()) ? pieces_[id] : "";
  }

 private:
  std::unique_ptr<tokenizers::SentencePieceTokenizer> source_, target_;
  absl::flat_hash_map<std::string, int> ids_;
  std::vector<std::string> pieces_;
};

// Adapts a tokenizer that already adds its specials and skips them in decoding.
template <typename T>
class Adapter final : public TextTokenizer {
 public:
  explicit Adapter(std::unique_ptr<T> tokenizer) : tokenizer_(std::move(tokenizer)) {}
  std::vector<Token> Encode(const std::string& text) const override {
    return tokenizer_->Encode(text);
  }
  std::string Decode(std::span<const int> ids) const override {
    return tokenizer_->Decode(ids);
  }
  std::string Piece(int id) const override {
    const int one[1] = {id};
    return tokenizer_->Decode(one);
  }

 private:
  std::unique_ptr<T> tokenizer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TextTokenizer>> LoadTokenizer(
    const std::string& dir, const io::ModelConfig& config) {
  switch (config.family) {
    case io::ModelFamily::kMarian:
      return MarianTokenizer::Load(dir);
    case io::ModelFamily::kBart: {
      auto t = tokenizers::ByteLevelBpeTokenizer::FromFiles(dir + "/vocab.json",
                                                            dir + "/merges.txt");
      if (!t.ok()) return t.status();
      return std::unique_ptr<TextTokenizer>(
          new Adapter<tokenizers::ByteLevelBpeTokenizer>(std::move(*t)));
    }
    case io::ModelFamily::kBert:
    case io::ModelFamily::kDistilBert: {
      auto t = tokenizers::WordPieceTokenizer::FromModelDir(dir);
      if (!t.ok()) return t.status();
      return std::unique_ptr<TextTokenizer>(
          new Adapter<tokenizers::WordPieceTokenizer>(std::move(*t)));
    }
  }
  return absl::UnimplementedError("no tokenizer for this model family");
}

}  // namespace heed::pipelines
