#include "core/tokenizers/unicode_props.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "core/tokenizers/utf8.h"

namespace heed::tokenizers {
namespace {

uint32_t CategoryMask(int cp) { return U_GET_GC_MASK(static_cast<UChar32>(cp)); }

std::u16string ToUtf16(int cp) {
  std::u16string out;
  if (cp >= 0x10000) {
    out.push_back(static_cast<char16_t>(U16_LEAD(cp)));
    out.push_back(static_cast<char16_t>(U16_TRAIL(cp)));
  } else {
    out.push_back(static_cast<char16_t>(cp));
  }
  return out;
}

std::string ToUtf8(const char16_t* s, int32_t length) {
  std::string out;
  for (int32_t i = 0; i < length;) {
    UChar32 cp;
    U16_NEXT(s, i, length, cp);
    AppendUtf8(cp, &out);
  }
  return out;
}

}  // namespace

bool IsLetter(int cp) { return (CategoryMask(cp) & U_GC_L_MASK) != 0; }
bool IsNumber(int cp) { return (CategoryMask(cp) & U_GC_N_MASK) != 0; }
bool IsWhiteSpace(int cp) { return u_isUWhiteSpace(cp); }
bool IsSpaceSeparator(int cp) { return u_charType(cp) == U_SPACE_SEPARATOR; }
bool IsControlOrFormat(int cp) {
  const int8_t type = u_charType(cp);
  return type == U_CONTROL_CHAR || type == U_FORMAT_CHAR;
}
bool IsPunctuation(int cp) { return (CategoryMask(cp) & U_GC_P_MASK) != 0; }
bool IsNonSpacingMark(int cp) { return u_charType(cp) == U_NON_SPACING_MARK; }
bool IsCased(int cp) { return u_hasBinaryProperty(cp, UCHAR_CASED); }

std::string LowerCase(int cp, bool final_sigma) {
  if (cp == 0x3a3 && final_sigma) return "\xcf\x82";  // ς
  const std::u16string in = ToUtf16(cp);
  char16_t out[16];
  UErrorCode error = U_ZERO_ERROR;
  const int32_t length = u_strToLower(reinterpret_cast<UChar*>(out), 16,
                                      reinterpret_cast<const UChar*>(in.data()),
                                      static_cast<int32_t>(in.size()), "", &error);
  if (U_FAILURE(error)) {
    std::string same;
    AppendUtf8(cp, &same);
    return same;
  }
  return ToUtf8(out, length);
}

std::string StripAccents(const std::string& utf8) {
  UErrorCode error = U_ZERO_ERROR;
  const UNormalizer2* nfd = unorm2_getNFDInstance(&error);
  std::string out;
  absl::string_view rest = utf8;
  while (!rest.empty()) {
    size_t length;
    const int cp = DecodeUtf8(rest, &length);
    rest.remove_prefix(length);
    if (cp < 0) continue;
    const std::u16string in = ToUtf16(cp);
    char16_t decomposed[32];
    error = U_ZERO_ERROR;
    const int32_t n = unorm2_normalize(nfd, reinterpret_cast<const UChar*>(in.data()),
                                       static_cast<int32_t>(in.size()),
                                       reinterpret_cast<UChar*>(decomposed), 32, &error);
    if (U_FAILURE(error)) {
      AppendUtf8(cp, &out);
      continue;
    }
    for (int32_t i = 0; i < n;) {
      UChar32 c;
      U16_NEXT(decomposed, i, n, c);
      if (!IsNonSpacingMark(c)) AppendUtf8(c, &out);
    }
  }
  return out;
}

}  // namespace heed::tokenizers
