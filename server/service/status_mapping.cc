#include "server/service/status_mapping.h"

#include <string>

#include "core/pipelines/status_details.h"
#include "google/rpc/error_details.pb.h"
#include "server/service/response_builders.h"

namespace heed::server {
namespace {

// A client told to retry without a measured wait backs off this long.
constexpr absl::Duration kDefaultRetryDelay = absl::Seconds(1);

}  // namespace

std::string ReasonOf(const absl::Status& status) {
  std::string reason = pipelines::DetailsOf(status).reason;
  if (reason.empty()) reason = absl::StatusCodeToString(status.code());
  return reason;
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kResourceExhausted &&
      status.code() != absl::StatusCode::kUnavailable) {
    return std::nullopt;
  }
  return pipelines::DetailsOf(status).retry_delay.value_or(kDefaultRetryDelay);
}

google::rpc::Status RichStatusOf(const absl::Status& status) {
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(std::string(status.message()));
  if (status.ok()) return rich;
  const pipelines::StatusDetails details = pipelines::DetailsOf(status);
  google::rpc::ErrorInfo info;
  info.set_reason(ReasonOf(status));
  info.set_domain(kErrorDomain);
  info.mutable_metadata()->insert(details.metadata.begin(), details.metadata.end());
  rich.add_details()->PackFrom(info);
  if (!details.field.empty()) {
    google::rpc::BadRequest bad_request;
    auto* violation = bad_request.add_field_violations();
    violation->set_field(details.field);
    violation->set_description(std::string(status.message()));
    rich.add_details()->PackFrom(bad_request);
  }
  if (std::optional<absl::Duration> delay = RetryDelayOf(status)) {
    google::rpc::RetryInfo retry;
    SetDuration(*delay, retry.mutable_retry_delay());
    rich.add_details()->PackFrom(retry);
  }
  return rich;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share the canonical numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()),
                      RichStatusOf(status).SerializeAsString());
}

}  // namespace heed::server
