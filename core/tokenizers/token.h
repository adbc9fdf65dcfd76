// What every tokenizer produces: vocabulary ids with the piece they spell and
// the byte range of the original text they came from (for alignments).
#ifndef HEED_CORE_TOKENIZERS_TOKEN_H_
#define HEED_CORE_TOKENIZERS_TOKEN_H_

#include <string>

namespace heed::tokenizers {

struct Token {
  int id = 0;
  std::string piece;
  // Byte offsets [begin, end) in the original text; special tokens added by the
  // tokenizer (e.g. </s>) have begin == end.
  int begin = 0;
  int end = 0;
};

}  // namespace heed::tokenizers

#endif  // HEED_CORE_TOKENIZERS_TOKEN_H_
