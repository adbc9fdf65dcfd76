// Machine-readable facts about a failure that travel inside an absl::Status as
// payloads: a stable reason (INPUT_TOO_LONG, QUEUE_FULL, ...), the request
// field at fault, and when a retry may succeed. Any layer can attach them
// without knowing a wire format; the server turns them into google.rpc details
// (ErrorInfo, BadRequest, RetryInfo) for gRPC and into JSON for HTTP.
#ifndef HEED_CORE_PIPELINES_STATUS_DETAILS_H_
#define HEED_CORE_PIPELINES_STATUS_DETAILS_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace heed::pipelines {

// Each returns `status` with the detail set (replacing an earlier one of the
// same kind); an OK status is returned unchanged.
absl::Status WithReason(absl::Status status, absl::string_view reason);
absl::Status WithField(absl::Status status, absl::string_view field);
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);
// A fact that goes with the reason, e.g. ("limit", "512").
absl::Status WithMetadata(absl::Status status, absl::string_view key,
                          absl::string_view value);

// INVALID_ARGUMENT with a reason and the request field at fault.
absl::Status InvalidField(absl::string_view reason, absl::string_view field,
                          absl::string_view message);

// The same code, details and payloads with another message, or with `prefix`
// before the message.
absl::Status Reworded(const absl::Status& status, absl::string_view message);
absl::Status Prefixed(const absl::Status& status, absl::string_view prefix);

struct StatusDetails {
  std::string reason;  // empty when none was attached
  std::string field;   // empty when no single field is at fault
  std::optional<absl::Duration> retry_delay;
  std::map<std::string, std::string> metadata;
};
StatusDetails DetailsOf(const absl::Status& status);

}  // namespace heed::pipelines

#endif  // HEED_CORE_PIPELINES_STATUS_DETAILS_H_
