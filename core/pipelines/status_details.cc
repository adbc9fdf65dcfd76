#include "core/pipelines/status_details.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace heed::pipelines {
namespace {

// Payload keys: private to heed, never sent as they are.
constexpr absl::string_view kReasonKey = "heed/reason";
constexpr absl::string_view kFieldKey = "heed/field";
constexpr absl::string_view kRetryDelayKey = "heed/retry_delay_ns";
constexpr absl::string_view kMetadataPrefix = "heed/metadata/";

absl::Status WithPayload(absl::Status status, absl::string_view key,
                         absl::string_view value) {
  if (!status.ok()) status.SetPayload(key, absl::Cord(value));
  return status;
}

std::string PayloadOf(const absl::Status& status, absl::string_view key) {
  absl::optional<absl::Cord> value = status.GetPayload(key);
  return value ? std::string(*value) : std::string();
}

}  // namespace

absl::Status WithReason(absl::Status status, absl::string_view reason) {
  return WithPayload(std::move(status), kReasonKey, reason);
}

absl::Status WithField(absl::Status status, absl::string_view field) {
  return WithPayload(std::move(status), kFieldKey, field);
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  const int64_t ns = absl::ToInt64Nanoseconds(std::max(delay, absl::ZeroDuration()));
  return WithPayload(std::move(status), kRetryDelayKey, std::to_string(ns));
}

absl::Status WithMetadata(absl::Status status, absl::string_view key,
                          absl::string_view value) {
  return WithPayload(std::move(status), absl::StrCat(kMetadataPrefix, key), value);
}

absl::Status InvalidField(absl::string_view reason, absl::string_view field,
                          absl::string_view message) {
  return WithField(WithReason(absl::InvalidArgumentError(message), reason), field);
}

absl::Status Reworded(const absl::Status& status, absl::string_view message) {
  absl::Status out(status.code(), message);
  status.ForEachPayload([&out](absl::string_view key, const absl::Cord& value) {
    out.SetPayload(key, value);
  });
  return out;
}

absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  return Reworded(status, absl::StrCat(prefix, status.message()));
}

StatusDetails DetailsOf(const absl::Status& status) {
  StatusDetails details;
  status.ForEachPayload([&details](absl::string_view key, const absl::Cord& value) {
    if (absl::ConsumePrefix(&key, kMetadataPrefix)) {
      details.metadata[std::string(key)] = std::string(value);
    }
  });
  details.reason = PayloadOf(status, kReasonKey);
  details.field = PayloadOf(status, kFieldKey);
  int64_t ns = 0;
  if (absl::SimpleAtoi(PayloadOf(status, kRetryDelayKey), &ns)) {
    details.retry_delay = absl::Nanoseconds(ns);
  }
  return details;
}

}  // namespace heed::pipelines
