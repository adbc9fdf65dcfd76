#include "core/tokenizers/sentencepiece_normalizer.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/tokenizers/utf8.h"

namespace heed::tokenizers {
namespace {

constexpr char kSpaceSymbol[] = "\xe2\x96\x81";      // U+2581 "▁"
constexpr char kReplacementChar[] = "\xef\xbf\xbd";  // U+FFFD

// Darts-clone unit fields.
bool HasLeaf(uint32_t unit) { return (unit >> 8) & 1; }
uint32_t Value(uint32_t unit) { return unit & ((1u << 31) - 1); }
uint32_t Label(uint32_t unit) { return unit & ((1u << 31) | 0xff); }
uint32_t Offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

}  // namespace

absl::StatusOr<SentencePieceNormalizer> SentencePieceNormalizer::Create(
    const SentencePieceModel& model, absl::string_view source) {
  SentencePieceNormalizer n;
  n.model_ = &model;
  for (const auto& piece : model.pieces) {
    if (piece.type == SentencePieceModel::PieceType::kUserDefined) {
      n.user_defined_.push_back(piece.text);
    }
  }
  absl::string_view blob = model.precompiled_charsmap;
  if (blob.empty()) return n;
  // <trie size: uint32 little-endian><trie units><replacement strings>
  uint32_t trie_bytes = 0;
  if (blob.size() <= 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": broken precompiled_charsmap"));
  }
  for (int i = 3; i >= 0; --i)
    trie_bytes = (trie_bytes << 8) | static_cast<uint8_t>(blob[i]);
  if (trie_bytes >= blob.size() - 4 || trie_bytes % 4 != 0 || trie_bytes == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": precompiled_charsmap trie exceeds its blob"));
  }
  n.trie_.resize(trie_bytes / 4);
  std::memcpy(n.trie_.data(), blob.data() + 4, trie_bytes);
  n.replacements_ = blob.substr(4 + trie_bytes);
  return n;
}

int SentencePieceNormalizer::LongestUserDefinedPrefix(absl::string_view input) const {
  int longest = 0;
  for (const std::string& piece : user_defined_) {
    if (piece.size() > static_cast<size_t>(longest) && absl::StartsWith(input, piece)) {
      longest = static_cast<int>(piece.size());
    }
  }
  return longest;
}

std::pair<absl::string_view, int> SentencePieceNormalizer::NormalizePrefix(
    absl::string_view input) const {
  if (const int length = LongestUserDefinedPrefix(input); length > 0) {
    return {input.substr(0, length), length};  // user-defined pieces stay as they are
  }
  // Longest rule: walk the double array byte by byte, remembering the last
  // leaf. Every index is checked, so a hostile map cannot read out of bounds.
  size_t longest_length = 0;
  uint32_t longest_value = 0;
  if (!trie_.empty()) {
    size_t node = Offset(trie_[0]);
    for (size_t i = 0; i < input.size(); ++i) {
      const uint8_t c = static_cast<uint8_t>(input[i]);
      node ^= c;
      if (node >= trie_.size()) break;
      const uint32_t unit = trie_[node];
      if (Label(unit) != c) break;
      node ^= Offset(unit);
      if (node >= trie_.size()) break;
      if (HasLeaf(unit)) {
        longest_length = i + 1;
        longest_value = Value(trie_[node]);
      }
    }
  }
  if (longest_length > 0 && longest_value < replacements_.size()) {
    const char* start = replacements_.data() + longest_value;
    const size_t max = replacements_.size() - longest_value;
    return {absl::string_view(start, strnlen(start, max)),
            static_cast<int>(longest_length)};
  }
  size_t length;
  if (DecodeUtf8(input, &length) < 0) return {kReplacementChar, 1};
  return {input.substr(0, length), static_cast<int>(length)};
}

void SentencePieceNormalizer::Normalize(absl::string_view input, std::string* normalized,
                                        std::vector<int>* norm_to_orig) const {
  normalized->clear();
  norm_to_orig->clear();
  const bool remove_ws = model_->remove_extra_whitespaces;
  const bool escape_ws = model_->escape_whitespaces;
  const bool suffix = model_->treat_whitespace_as_suffix;
  int consumed = 0;
  if (remove_ws) {  // leading whitespace, after normalization
    while (!input.empty()) {
      const auto [text, length] = NormalizePrefix(input);
      if (text != " ") break;
      input.remove_prefix(length);
      consumed += length;
    }
  }
  if (input.empty()) {
    norm_to_orig->push_back(consumed);
    return;
  }
  auto append_space = [&] {
    const absl::string_view space = escape_ws ? kSpaceSymbol : " ";
    normalized->append(space.data(), space.size());
    norm_to_orig->insert(norm_to_orig->end(), space.size(), consumed);
  };
  if (!suffix && model_->add_dummy_prefix) append_space();
  bool prev_space = remove_ws;
  while (!input.empty()) {
    auto [text, length] = NormalizePrefix(input);
    while (prev_space && absl::ConsumePrefix(&text, " ")) {
    }
    if (!text.empty()) {
      for (char c : text) {
        if (escape_ws && c == ' ') {
          normalized->append(kSpaceSymbol);
          norm_to_orig->insert(norm_to_orig->end(), 3, consumed);
        } else {
          normalized->push_back(c);
          norm_to_orig->push_back(consumed);
        }
      }
      prev_space = absl::EndsWith(text, " ");
    }
    consumed += length;
    input.remove_prefix(length);
    if (!remove_ws) prev_space = false;
  }
  if (remove_ws) {  // trailing whitespace
    const absl::string_view space = escape_ws ? kSpaceSymbol : " ";
    while (absl::EndsWith(*normalized, space)) {
      const size_t length = normalized->size() - space.size();
      consumed = (*norm_to_orig)[length];
      normalized->erase(length);
      norm_to_orig->resize(length);
    }
  }
  if (suffix && model_->add_dummy_prefix) append_space();
  norm_to_orig->push_back(consumed);
}

}  // namespace heed::tokenizers
