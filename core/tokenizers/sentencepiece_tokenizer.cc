#include "core/tokenizers/sentencepiece_tokenizer.h"

#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <functional>
#include <queue>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "core/io/json_file.h"
#include "core/tokenizers/utf8.h"

namespace heed::tokenizers {
namespace {

using PieceType = SentencePieceModel::PieceType;

// Unknown characters score this far below the worst piece, as in the
// reference, so that any segmentation with known pieces wins.
constexpr float kUnkPenalty = 10.0f;

int CharLength(absl::string_view s) {
  return std::min<int>(Utf8LeadLength(static_cast<unsigned char>(s[0])), s.size());
}

// A run of bytes as text: valid UTF-8 is copied, each invalid byte becomes U+FFFD.
void AppendBytesAsText(absl::string_view bytes, std::string* out) {
  while (!bytes.empty()) {
    size_t length;
    if (DecodeUtf8(bytes, &length) < 0) {
      out->append("\xef\xbf\xbd");
      bytes.remove_prefix(1);
    } else {
      out->append(bytes.data(), length);
      bytes.remove_prefix(length);
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::FromFile(
    const std::string& path) {
  absl::StatusOr<std::string> bytes = io::ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return FromBytes(*bytes, path);
}

absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::FromBytes(
    absl::string_view bytes, absl::string_view source) {
  absl::StatusOr<SentencePieceModel> model = ParseSentencePieceModel(bytes, source);
  if (!model.ok()) return model.status();
  // The normalizer keeps a pointer to the model, so both live in the object.
  std::unique_ptr<SentencePieceTokenizer> tokenizer(
      new SentencePieceTokenizer(std::move(*model), SentencePieceNormalizer()));
  absl::StatusOr<SentencePieceNormalizer> normalizer =
      SentencePieceNormalizer::Create(tokenizer->model_, source);
  if (!normalizer.ok()) return normalizer.status();
  tokenizer->normalizer_ = std::move(*normalizer);
  for (size_t i = 0; i < tokenizer->model_.pieces.size(); ++i) {
    const auto& piece = tokenizer->model_.pieces[i];
    const bool segmentable = piece.type == PieceType::kNormal ||
                             piece.type == PieceType::kUserDefined ||
                             piece.type == PieceType::kUnused;
    auto& map = segmentable ? tokenizer->pieces_ : tokenizer->reserved_;
    if (!map.emplace(piece.text, static_cast<int>(i)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": piece \"", piece.text, "\" is defined twice"));
    }
  }
  tokenizer->Index();
  return tokenizer;
}

SentencePieceTokenizer::SentencePieceTokenizer(SentencePieceModel model,
                                               SentencePieceNormalizer normalizer)
    : model_(std::move(model)), normalizer_(std::move(normalizer)) {}

void SentencePieceTokenizer::Index() {
  // The reference starts the maximum at FLT_MIN (the smallest positive float),
  // which matters for the bonus of user-defined pieces; keep that.
  min_score_ = FLT_MAX;
  max_score_ = FLT_MIN;
  for (const auto& piece : model_.pieces) {
    max_piece_bytes_ = std::max<int>(max_piece_bytes_, piece.text.size());
    if (piece.type == PieceType::kNormal) {
      min_score_ = std::min(min_score_, piece.score);
      max_score_ = std::max(max_score_, piece.score);
    }
  }
}

int SentencePieceTokenizer::PieceToId(absl::string_view piece) const {
  if (auto it = reserved_.find(piece); it != reserved_.end()) return it->second;
  if (auto it = pieces_.find(piece); it != pieces_.end()) return it->second;
  return model_.unk_id;
}

// Viterbi over the lattice of all known pieces, with the reference's
// arithmetic, which decides exact ties: a path's score is stored as a float,
// but a candidate is computed and compared in double (the reference's piece
// score is a double expression), so of two paths whose float sums are equal
// the one whose last addition rounds up can still win. Candidates are visited
// by start, then by length, and only a strictly better one replaces the best.
std::vector<SentencePieceTokenizer::Segment> SentencePieceTokenizer::EncodeUnigram(
    absl::string_view normalized) const {
  std::vector<int> starts;  // byte offset of each character
  for (size_t pos = 0; pos < normalized.size();
       pos += CharLength(normalized.substr(pos))) {
    starts.push_back(static_cast<int>(pos));
  }
  const int chars = static_cast<int>(starts.size());
  starts.push_back(static_cast<int>(normalized.size()));
  struct Best {
    float score = 0.0f;
    int prev_char = -1;  // start character of the last piece
    int id = -1;
    bool reached = false;
  };
  std::vector<Best> best(chars + 1);
  best[0].reached = true;
  const float unk_score = min_score_ - kUnkPenalty;
  for (int begin = 0; begin < chars; ++begin) {
    if (!best[begin].reached) continue;
    bool has_single = false;
    for (int end = begin + 1; end <= chars; ++end) {
      const int bytes = starts[end] - starts[begin];
      if (bytes > max_piece_bytes_) break;
      auto it = pieces_.find(normalized.substr(starts[begin], bytes));
      if (it == pieces_.end() || IsType(it->second, PieceType::kUnused)) continue;
      // User-defined pieces get a bonus so that they are always chosen; the
      // reference counts their length in bytes.
      const double score = IsType(it->second, PieceType::kUserDefined)
                               ? static_cast<float>(bytes) * max_score_ - 0.1
                               : model_.pieces[it->second].score;
      has_single |= end - begin == 1;
      const double total = score + best[begin].score;
      if (!best[end].reached || total > best[end].score) {
        best[end] = {static_cast<float>(total), begin, it->second, true};
      }
    }
    if (!has_single) {
      const float total = unk_score + best[begin].score;
      if (!best[begin + 1].reached || total > best[begin + 1].score) {
        best[begin + 1] = {total, begin, model_.unk_id, true};
      }
    }
  }
  std::vector<Segment> out;
  for (int end = chars; end > 0; end = best[end].prev_char) {
    const int begin = best[end].prev_char;
    out.emplace_back(normalized.substr(starts[begin], starts[end] - starts[begin]),
                     best[end].id);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// Repeatedly merges the adjacent pair that forms the best-scoring piece
// (leftmost on ties); unused pieces are split back into their parts.
std::vector<SentencePieceTokenizer::Segment> SentencePieceTokenizer::EncodeBpe(
    absl::string_view normalized) const {
  struct Symbol {
    int prev, next;
    bool frozen;  // user-defined symbols are never merged
    absl::string_view piece;
  };
  struct Pair {
    int left, right;
    float score;
    size_t size;
  };
  auto worse = [](const Pair& a, const Pair& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> agenda(worse);
  absl::flat_hash_map<absl::string_view, std::pair<absl::string_view, absl::string_view>>
      unmerge;
  std::vector<Symbol> symbols;
  while (!normalized.empty()) {
    int length = 0;
    for (const auto& piece : model_.pieces) {  // user-defined: longest prefix
      if (piece.type == PieceType::kUserDefined &&
          piece.text.size() > static_cast<size_t>(length) &&
          normalized.substr(0, piece.text.size()) == piece.text) {
        length = static_cast<int>(piece.text.size());
      }
    }
    const bool frozen = length > 0;
    if (!frozen) length = CharLength(normalized);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1,
                       static_cast<int>(normalized.size()) > length ? index + 1 : -1,
                       frozen, normalized.substr(0, length)});
    normalized.remove_prefix(length);
  }
  auto add_pair = [&](int left, int right) {
    if (left < 0 || right < 0 || symbols[left].frozen || symbols[right].frozen) return;
    const absl::string_view merged(
        symbols[left].piece.data(),
        symbols[left].piece.size() + symbols[right].piece.size());
    auto it = pieces_.find(merged);
    if (it == pieces_.end()) return;
    agenda.push({left, right, model_.pieces[it->second].score, merged.size()});
    if (IsType(it->second, PieceType::kUnused)) {
      unmerge[merged] = {symbols[left].piece, symbols[right].piece};
    }
  };
  for (size_t i = 1; i < symbols.size(); ++i) add_pair(i - 1, i);
  while (!agenda.empty()) {
    const Pair top = agenda.top();
    agenda.pop();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    if (left.piece.empty() || right.piece.empty() ||
        left.piece.size() + right.piece.size() != top.size) {
      continue;  // stale: one side was merged since
    }
    left.piece = absl::string_view(left.piece.data(), top.size);
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    right.piece = {};
    add_pair(left.prev, top.left);
    add_pair(top.left, left.next);
  }
  std::vector<Segment> out;
  std::function<void(absl::string_view)> emit = [&](absl::string_view piece) {
    const int id = PieceToId(piece);
    auto it = unmerge.find(piece);
    if (IsType(id, PieceType::kUnused) && it != unmerge.end()) {
      emit(it->second.first);
      emit(it->second.second);
    } else {
      out.emplace_back(piece, id);
    }
  };
  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next)
    emit(symbols[i].piece);
  return out;
}

std::vector<Token> SentencePieceTokenizer::Encode(absl::string_view text) const {
  std::string normalized;
  std::vector<int> norm_to_orig;
  normalizer_.Normalize(text, &normalized, &norm_to_orig);
  const std::vector<Segment> segments =
      model_.algorithm == SentencePieceModel::Algorithm::kBpe ? EncodeBpe(normalized)
                                                              : EncodeUnigram(normalized);
  std::vector<Token> tokens;
  size_t consumed = 0;
  bool prev_unknown = false;
  for (const auto& [piece, id] : segments) {
    const int begin = norm_to_orig[consumed];
    const int end = norm_to_orig[consumed + piece.size()];
    consumed += piece.size();
    const bool unknown = id == model_.unk_id;
    if (unknown && model_.byte_fallback) {
      // Each byte of the unknown piece as a <0xNN> piece; the last carries
      // the surface.
      for (size_t i = 0; i < piece.size(); ++i) {
        const std::string byte_piece =
            absl::StrFormat("<0x%02X>", static_cast<uint8_t>(piece[i]));
        const bool last = i + 1 == piece.size();
        tokens.push_back({PieceToId(byte_piece), byte_piece, begin, last ? end : begin});
      }
    } else if (unknown && prev_unknown) {
      // Runs of unknown characters become one unknown token.
      tokens.back().piece.append(piece.data(), piece.size());
      tokens.back().end = end;
    } else {
      tokens.push_back({id, std::string(piece), begin, end});
    }
    prev_unknown = unknown;
  }
  return tokens;
}

std::string SentencePieceTokenizer::DecodePieces(
    std::span<const std::string> pieces) const {
  std::string text, bytes;
  bool first = true;
  for (const std::string& piece : pieces) {
    const int id = PieceToId(piece);
    const PieceType type = model_.pieces[id].type;
    if (type == PieceType::kControl) continue;
    if (type == PieceType::kByte) {
      unsigned value;
      if (std::sscanf(piece.c_str(), "<0x%2X>", &value) == 1)
        bytes.push_back(static_cast<char>(value));
      continue;
    }
    AppendBytesAsText(bytes, &text);
    bytes.clear();
    std::string surface = type == PieceType::kUnknown && piece == IdToPiece(model_.unk_id)
                              ? model_.unk_surface
                              : absl::StrReplaceAll(piece, {{"\xe2\x96\x81", " "}});
    if (first && model_.add_dummy_prefix && !model_.treat_whitespace_as_suffix &&
        !surface.empty() && surface[0] == ' ' && type != PieceType::kUnknown) {
      surface.erase(0, 1);
    }
    text += surface;
    first = false;
  }
  AppendBytesAsText(bytes, &text);
  return text;
}

std::string SentencePieceTokenizer::DecodeIds(std::span<const int> ids) const {
  std::vector<std::string> pieces;
  for (int id : ids) {
    if (id >= 0 && id < vocab_size()) pieces.push_back(model_.pieces[id].text);
  }
  return DecodePieces(pieces);
}

}  // namespace heed::tokenizers
