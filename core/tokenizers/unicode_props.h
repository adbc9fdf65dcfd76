// Unicode character properties the tokenizers need, answered by ICU so that
// they agree with Python's unicodedata (which the reference tokenizers use).
#ifndef HEED_CORE_TOKENIZERS_UNICODE_PROPS_H_
#define HEED_CORE_TOKENIZERS_UNICODE_PROPS_H_

#include <string>

namespace heed::tokenizers {

bool IsLetter(int cp);           // general category L*
bool IsNumber(int cp);           // N*
bool IsWhiteSpace(int cp);       // the White_Space property (regex \s)
bool IsSpaceSeparator(int cp);   // Zs
bool IsControlOrFormat(int cp);  // Cc or Cf
bool IsPunctuation(int cp);      // P*
bool IsNonSpacingMark(int cp);   // Mn
bool IsCased(int cp);

// Full lower-case mapping of one character (e.g. "İ" → "i̇"), as UTF-8;
// `final_sigma` asks for "ς" where "Σ" ends a word.
std::string LowerCase(int cp, bool final_sigma);
// Canonical decomposition (NFD) of `utf8` without its non-spacing marks.
std::string StripAccents(const std::string& utf8);

}  // namespace heed::tokenizers

#endif  // HEED_CORE_TOKENIZERS_UNICODE_PROPS_H_
