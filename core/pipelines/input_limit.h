// The checks every input text passes: it is UTF-8, and longer than the model
// accepts is an error unless the caller asked for truncation (never cut
// silently).
#ifndef HEED_CORE_PIPELINES_INPUT_LIMIT_H_
#define HEED_CORE_PIPELINES_INPUT_LIMIT_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/tokenizers/token.h"

namespace heed::pipelines {

// INVALID_ARGUMENT "is not valid UTF-8" for anything else.
absl::Status CheckInputText(absl::string_view text);

// INVALID_ARGUMENT with reason INPUT_TOO_LONG and the token count and the
// limit as metadata; `message` says what to do about it.
absl::Status InputTooLong(int tokens, int limit, absl::string_view message);

// If tokens exceed `limit`: with `truncate`, keeps the first limit - 1 tokens
// and the final special token (</s> or [SEP]) and sets *truncated; otherwise
// INVALID_ARGUMENT naming both counts.
absl::Status FitInputLimit(std::vector<tokenizers::Token>* tokens, int limit,
                           bool truncate, bool* truncated);

}  // namespace heed::pipelines

#endif  // HEED_CORE_PIPELINES_INPUT_LIMIT_H_
