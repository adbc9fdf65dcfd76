// Turning API requests into pipeline requests, with a precise INVALID_ARGUMENT
// for every out-of-range option. The one place request options are read.
#ifndef HEED_SERVER_SERVICE_REQUEST_VALIDATION_H_
#define HEED_SERVER_SERVICE_REQUEST_VALIDATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/pipelines/sentiment_classifier.h"
#include "core/pipelines/text_generator.h"
#include "heed/v1/inference.pb.h"

namespace heed::server {

inline constexpr int kMaxTextsPerRequest = 256;
inline constexpr int kMaxTextBytes = 1 << 20;

absl::Status ValidateText(const std::string& text, const std::string& field);

// text, model options and flags of Translate/Summarize requests. `seed`
// receives the sampling seed actually used (drawn when the request has none).
absl::StatusOr<pipelines::GenerationRequest> ToGenerationRequest(
    const std::string& text, const heed::v1::GenerationOptions& options,
    bool truncate_input, bool return_alignment, uint64_t* seed);

// The long-input policy of a ClassifySentiment request: long_input when set,
// else truncate when truncate_input, else the model's default.
absl::StatusOr<pipelines::LongInput> LongInputOf(
    const heed::v1::ClassifySentimentRequest& request,
    pipelines::LongInput model_default);

// Scheduling priority as the scheduler orders it (higher first).
int PriorityRank(heed::v1::Priority priority);

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_REQUEST_VALIDATION_H_
