#include "core/pipelines/input_limit.h"

#include "absl/strings/str_cat.h"
#include "core/pipelines/status_details.h"
#include "core/tokenizers/utf8.h"

namespace heed::pipelines {

absl::Status CheckInputText(absl::string_view text) {
  if (!tokenizers::IsValidUtf8(text)) {
    return WithReason(absl::InvalidArgumentError("is not valid UTF-8"), "INVALID_UTF8");
  }
  return absl::OkStatus();
}

absl::Status InputTooLong(int tokens, int limit, absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status = WithMetadata(std::move(status), "limit", absl::StrCat(limit));
  status = WithMetadata(std::move(status), "tokens", absl::StrCat(tokens));
  return WithReason(std::move(status), "INPUT_TOO_LONG");
}

absl::Status FitInputLimit(std::vector<tokenizers::Token>* tokens, int limit,
                           bool truncate, bool* truncated) {
  *truncated = false;
  const int count = static_cast<int>(tokens->size());
  if (count <= limit) return absl::OkStatus();
  if (!truncate) {
    return InputTooLong(
        count, limit,
        absl::StrCat("the input is ", count, " tokens long; the model accepts at most ",
                     limit, " (set truncate_input to cut it)"));
  }
  const tokenizers::Token last = tokens->back();
  tokens->resize(limit - 1);
  tokens->push_back(last);
  *truncated = true;
  return absl::OkStatus();
}

}  // namespace heed::pipelines
