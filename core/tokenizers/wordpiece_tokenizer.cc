#include "core/tokenizers/wordpiece_tokenizer.h"

#include <filesystem>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/io/json_file.h"
#include "core/tokenizers/unicode_props.h"
#include "core/tokenizers/utf8.h"

namespace heed::tokenizers {
namespace {

bool IsBertWhitespace(int cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || IsSpaceSeparator(cp);
}

bool IsBertControl(int cp) {
  return cp != '\t' && cp != '\n' && cp != '\r' && IsControlOrFormat(cp);
}

// BERT counts every non-alphanumeric ASCII symbol as punctuation, even those
// Unicode calls symbols ($, +, <, ^, `, |, ~).
bool IsBertPunctuation(int cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  return IsPunctuation(cp);
}

bool IsCjk(int cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

struct RawChar {
  int cp, begin, end;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::FromVocabFile(
    const std::string& path, WordPieceOptions options) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::unique_ptr<WordPieceTokenizer> t(new WordPieceTokenizer);
  t->options_ = options;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    t->ids_.emplace(line, static_cast<int>(t->pieces_.size()));  // first wins, as in HF
    t->pieces_.push_back(line);
  }
  for (auto [name, id] :
       {std::pair{"[UNK]", &t->unk_id_}, std::pair{"[CLS]", &t->cls_id_},
        std::pair{"[SEP]", &t->sep_id_}, std::pair{"[PAD]", &t->pad_id_}}) {
    auto it = t->ids_.find(name);
    if (it == t->ids_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": the vocabulary has no ", name));
    }
    *id = it->second;
  }
  return t;
}

absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::FromModelDir(
    const std::string& dir) {
  namespace fs = std::filesystem;
  WordPieceOptions options;
  const fs::path config = fs::path(dir) / "tokenizer_config.json";
  std::error_code ec;
  if (fs::exists(config, ec)) {
    absl::StatusOr<nlohmann::json> json = io::ReadJsonFile(config.string());
    if (!json.ok()) return json.status();
    if (json->contains("do_lower_case") && (*json)["do_lower_case"].is_boolean()) {
      options.lower_case = (*json)["do_lower_case"].get<bool>();
    }
    if (json->contains("strip_accents") && (*json)["strip_accents"].is_boolean()) {
      options.strip_accents = (*json)["strip_accents"].get<bool>();
    }
    if (json->contains("tokenize_chinese_chars") &&
        (*json)["tokenize_chinese_chars"].is_boolean()) {
      options.split_chinese_chars = (*json)["tokenize_chinese_chars"].get<bool>();
    }
  }
  return FromVocabFile((fs::path(dir) / "vocab.txt").string(), options);
}

std::vector<std::vector<WordPieceTokenizer::Char>> WordPieceTokenizer::BasicTokenize(
    absl::string_view text) const {
  // Whitespace-separated words of original characters, controls removed and
  // CJK characters standing alone.
  std::vector<std::vector<RawChar>> words(1);
  for (size_t pos = 0; pos < text.size();) {
    size_t length;
    const int cp = DecodeUtf8(text.substr(pos), &length);
    const RawChar c{cp, static_cast<int>(pos), static_cast<int>(pos + length)};
    pos += length;
    if (cp <= 0 || cp == 0xFFFD || IsBertControl(cp)) continue;
    if (IsBertWhitespace(cp)) {
      if (!words.back().empty()) words.emplace_back();
    } else if (options_.split_chinese_chars && IsCjk(cp)) {
      if (!words.back().empty()) words.emplace_back();
      words.back().push_back(c);
      words.emplace_back();
    } else {
      words.back().push_back(c);
    }
  }
  const bool strip = options_.strip_accents.value_or(options_.lower_case);
  std::vector<std::vector<Char>> out;
  for (const auto& word : words) {
    if (word.empty()) continue;
    out.emplace_back();
    for (size_t i = 0; i < word.size(); ++i) {
      std::string normalized;
      if (options_.lower_case) {
        const bool final_sigma = i > 0 && IsCased(word[i - 1].cp) &&
                                 (i + 1 == word.size() || !IsCased(word[i + 1].cp));
        normalized = LowerCase(word[i].cp, final_sigma);
      } else {
        AppendUtf8(word[i].cp, &normalized);
      }
      if (strip) normalized = StripAccents(normalized);
      // One entry per resulting code point; punctuation stands alone.
      absl::string_view rest = normalized;
      while (!rest.empty()) {
        size_t n;
        const int cp = DecodeUtf8(rest, &n);
        Char c{std::string(rest.substr(0, n)), word[i].begin, word[i].end};
        rest.remove_prefix(n);
        if (IsBertPunctuation(cp)) {
          if (!out.back().empty()) out.emplace_back();
          out.back().push_back(std::move(c));
          out.emplace_back();
        } else {
          out.back().push_back(std::move(c));
        }
      }
    }
    if (out.back().empty()) out.pop_back();
  }
  return out;
}

void WordPieceTokenizer::WordPiece(const std::vector<Char>& word,
                                   std::vector<Token>* out) const {
  const int n = static_cast<int>(word.size());
  if (n > options_.max_chars_per_word) {
    out->push_back({unk_id_, pieces_[unk_id_], word.front().begin, word.back().end});
    return;
  }
  std::vector<Token> pieces;
  for (int start = 0; start < n;) {
    int found = -1, end = n;
    for (; end > start; --end) {
      std::string candidate = start > 0 ? "##" : "";
      for (int i = start; i < end; ++i) candidate += word[i].text;
      if (auto it = ids_.find(candidate); it != ids_.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {  // any unmatched part makes the whole word unknown
      out->push_back({unk_id_, pieces_[unk_id_], word.front().begin, word.back().end});
      return;
    }
    pieces.push_back({found, pieces_[found], word[start].begin, word[end - 1].end});
    start = end;
  }
  out->insert(out->end(), pieces.begin(), pieces.end());
}

std::vector<Token> WordPieceTokenizer::Encode(absl::string_view text) const {
  std::vector<Token> tokens = {{cls_id_, pieces_[cls_id_], 0, 0}};
  for (const auto& word : BasicTokenize(text)) WordPiece(word, &tokens);
  const int end = static_cast<int>(text.size());
  tokens.push_back({sep_id_, pieces_[sep_id_], end, end});
  return tokens;
}

std::string WordPieceTokenizer::Decode(std::span<const int> ids) const {
  std::string text;
  for (int id : ids) {
    if (id < 0 || id >= vocab_size() || id == cls_id_ || id == sep_id_ || id == pad_id_)
      continue;
    if (!text.empty()) text += ' ';
    text += pieces_[id];
  }
  return absl::StrReplaceAll(text, {{" ##", ""},
                                    {" .", "."},
                                    {" ?", "?"},
                                    {" !", "!"},
                                    {" ,", ","},
                                    {" ' ", "'"},
                                    {" n't", "n't"},
                                    {" 'm", "'m"},
                                    {" 's", "'s"},
                                    {" 've", "'ve"},
                                    {" 're", "'re"}});
}

}  // namespace heed::tokenizers
