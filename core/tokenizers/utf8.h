// UTF-8 helpers shared by the tokenizers.
#ifndef HEED_CORE_TOKENIZERS_UTF8_H_
#define HEED_CORE_TOKENIZERS_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace heed::tokenizers {

// Length of the character starting with byte `lead` as its lead byte claims
// (1 for continuation or invalid bytes), as SentencePiece counts characters.
inline int Utf8LeadLength(unsigned char lead) {
  static constexpr int kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[lead >> 4];
}

// Decodes the character at the start of `s`. Returns the code point and sets
// *length; an invalid sequence (bad continuation, overlong form, surrogate,
// beyond U+10FFFF, truncated) returns -1 with *length = 1.
int DecodeUtf8(absl::string_view s, size_t* length);

bool IsValidUtf8(absl::string_view s);

void AppendUtf8(int code_point, std::string* out);

}  // namespace heed::tokenizers

#endif  // HEED_CORE_TOKENIZERS_UTF8_H_
