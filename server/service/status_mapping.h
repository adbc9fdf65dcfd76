// The one translation from absl::Status (core's error type) to grpc::Status.
// Handlers never invent codes: the canonical codes map one to one. Every error
// also carries a google.rpc.Status with ErrorInfo (always), BadRequest (when a
// field is at fault) and RetryInfo (RESOURCE_EXHAUSTED and UNAVAILABLE), built
// from the details attached with core/pipelines/status_details.h.
#ifndef HEED_SERVER_SERVICE_STATUS_MAPPING_H_
#define HEED_SERVER_SERVICE_STATUS_MAPPING_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

namespace heed::server {

// ErrorInfo's domain for every reason heed defines.
inline constexpr char kErrorDomain[] = "heed";

grpc::Status ToGrpcStatus(const absl::Status& status);

// The google.rpc.Status that ToGrpcStatus sends (HTTP renders it as JSON).
google::rpc::Status RichStatusOf(const absl::Status& status);

// The reason ErrorInfo carries: the attached one, else the code's name.
std::string ReasonOf(const absl::Status& status);

// When a retry may succeed: the attached delay, else a default for the two
// codes that always carry one; nullopt for every other code.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_STATUS_MAPPING_H_
