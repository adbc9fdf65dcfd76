#include "core/tokenizers/byte_level_bpe_tokenizer.h"

#include <climits>
#include <cstring>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"
#include "core/tokenizers/unicode_props.h"
#include "core/tokenizers/utf8.h"

namespace heed::tokenizers {
namespace {

int CodePointAt(absl::string_view s, size_t pos, size_t* length) {
  const int cp = DecodeUtf8(s.substr(pos), length);
  return cp < 0 ? 0xFFFD : cp;
}

// Length of the run of characters from `pos` satisfying `pred`.
template <typename Pred>
size_t RunLength(absl::string_view s, size_t pos, Pred pred) {
  size_t end = pos, length;
  while (end < s.size() && pred(CodePointAt(s, end, &length))) end += length;
  return end - pos;
}

bool IsOther(int cp) { return !IsWhiteSpace(cp) && !IsLetter(cp) && !IsNumber(cp); }

}  // namespace

absl::StatusOr<std::unique_ptr<ByteLevelBpeTokenizer>> ByteLevelBpeTokenizer::FromFiles(
    const std::string& vocab_path, const std::string& merges_path) {
  absl::StatusOr<nlohmann::json> vocab = io::ReadJsonFile(vocab_path);
  if (!vocab.ok()) return vocab.status();
  if (!vocab->is_object() || vocab->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(vocab_path, ": not a piece → id object"));
  }
  std::unique_ptr<ByteLevelBpeTokenizer> t(new ByteLevelBpeTokenizer);
  for (const auto& [piece, id] : vocab->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
        id.get<int64_t>() >= (1 << 24)) {
      return absl::InvalidArgumentError(
          absl::StrCat(vocab_path, ": bad id of \"", piece, "\""));
    }
    const int value = id.get<int>();
    if (value >= static_cast<int>(t->pieces_.size())) t->pieces_.resize(value + 1);
    t->pieces_[value] = piece;
    t->ids_[piece] = value;
  }
  std::ifstream merges(merges_path);
  if (!merges) return absl::NotFoundError(absl::StrCat(merges_path, ": cannot open"));
  int rank = 0;
  for (std::string line; std::getline(merges, line);) {
    if (line.empty() || line.starts_with("#version")) continue;
    if (line.find(' ') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(merges_path, ": line \"", line, "\" is not a merge \"a b\""));
    }
    t->merge_rank_.emplace(line, rank++);
  }
  // GPT-2's byte → character table: printable Latin-1 bytes map to
  // themselves, the rest to U+0100 onwards in byte order.
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable =
        (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    const int cp = printable ? b : next++;
    AppendUtf8(cp, &t->byte_to_char_[b]);
    t->char_to_byte_[cp] = static_cast<uint8_t>(b);
  }
  for (auto [name, id] :
       {std::pair{"<s>", &t->bos_id_}, std::pair{"</s>", &t->eos_id_},
        std::pair{"<pad>", &t->pad_id_}, std::pair{"<unk>", &t->unk_id_}}) {
    if (auto it = t->ids_.find(name); it != t->ids_.end()) *id = it->second;
  }
  return t;
}

std::vector<absl::string_view> ByteLevelBpeTokenizer::PreTokenize(
    absl::string_view text) {
  static constexpr const char* kContractions[] = {"'s", "'t",  "'re", "'ve",
                                                  "'m", "'ll", "'d"};
  std::vector<absl::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length = 0;
    for (const char* c : kContractions) {
      if (absl::StartsWith(text.substr(pos), c)) {
        length = std::strlen(c);
        break;
      }
    }
    if (length == 0) {
      // An optional single space, then letters, numbers or other symbols.
      const size_t start = text[pos] == ' ' && pos + 1 < text.size() ? pos + 1 : pos;
      size_t n;
      const int cp = CodePointAt(text, start, &n);
      size_t run = 0;
      if (IsLetter(cp)) {
        run = RunLength(text, start, IsLetter);
      } else if (IsNumber(cp)) {
        run = RunLength(text, start, IsNumber);
      } else if (IsOther(cp)) {
        run = RunLength(text, start, IsOther);
      }
      if (run > 0) length = start - pos + run;
    }
    if (length == 0) {
      // Whitespace: the run, less its last character when a non-space
      // follows (that character leads the next pre-token).
      const size_t run = RunLength(text, pos, IsWhiteSpace);
      if (pos + run < text.size() && run > 0) {
        size_t last = pos, n = 0;
        for (size_t p = pos; p < pos + run; p += n) {
          last = p;
          CodePointAt(text, p, &n);
        }
        length = last > pos ? last - pos : run;
      } else {
        length = run;
      }
    }
    if (length == 0) CodePointAt(text, pos, &length);  // not reached for valid UTF-8
    out.push_back(text.substr(pos, length));
    pos += length;
  }
  return out;
}

std::vector<std::string> ByteLevelBpeTokenizer::Merge(const std::string& mapped) const {
  std::vector<std::string> parts;
  for (size_t pos = 0; pos < mapped.size();) {
    const size_t n = Utf8LeadLength(static_cast<unsigned char>(mapped[pos]));
    parts.push_back(mapped.substr(pos, n));
    pos += n;
  }
  while (parts.size() > 1) {
    int best_rank = INT_MAX;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto it = merge_rank_.find(parts[i] + " " + parts[i + 1]);
      if (it != merge_rank_.end() && it->second < best_rank) best_rank = it->second;
    }
    if (best_rank == INT_MAX) break;
    // Merge every occurrence of the best pair, left to right.
    std::vector<std::string> merged;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i + 1 < parts.size()) {
        auto it = merge_rank_.find(parts[i] + " " + parts[i + 1]);
        if (it != merge_rank_.end() && it->second == best_rank) {
          merged.push_back(parts[i] + parts[i + 1]);
          ++i;
          continue;
        }
      }
      merged.push_back(parts[i]);
    }
    parts = std::move(merged);
  }
  return parts;
}

std::vector<Token> ByteLevelBpeTokenizer::Encode(absl::string_view text) const {
  std::vector<Token> tokens = {{bos_id_, pieces_[bos_id_], 0, 0}};
  for (absl::string_view pre : PreTokenize(text)) {
    std::string mapped;
    for (unsigned char b : pre) mapped += byte_to_char_[b];
    int offset = static_cast<int>(pre.data() - text.data());
    for (std::string& piece : Merge(mapped)) {
      int bytes = 0;  // each mapped character stands for one byte
      for (size_t p = 0; p < piece.size(); p += Utf8LeadLength(piece[p])) ++bytes;
      auto it = ids_.find(piece);
      const int id = it != ids_.end() ? it->second : unk_id_;
      tokens.push_back({id, std::move(piece), offset, offset + bytes});
      offset += bytes;
    }
  }
  const int end = static_cast<int>(text.size());
  tokens.push_back({eos_id_, pieces_[eos_id_], end, end});
  return tokens;
}

std::string ByteLevelBpeTokenizer::Decode(std::span<const int> ids) const {
  std::string bytes;
  for (int id : ids) {
    if (id < 0 || id >= vocab_size() || id == bos_id_ || id == eos_id_ || id == pad_id_)
      continue;
    const std::string& piece = pieces_[id];
    if (piece == "<unk>" || piece == "<mask>") continue;
    absl::string_view rest = piece;
    while (!rest.empty()) {
      size_t n;
      const int cp = DecodeUtf8(rest, &n);
      rest.remove_prefix(n);
      if (auto it = char_to_byte_.find(cp); it != char_to_byte_.end())
        bytes += it->second;
    }
  }
  std::string text;
  absl::string_view rest = bytes;
  while (!rest.empty()) {  // invalid sequences become U+FFFD, one per byte
    size_t n;
    if (DecodeUtf8(rest, &n) < 0) {
      text += "\xef\xbf\xbd";
      rest.remove_prefix(1);
    } else {
      text.append(rest.data(), n);
      rest.remove_prefix(n);
    }
  }
  return text;
}

}  // namespace heed::tokenizers
