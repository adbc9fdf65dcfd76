#include "server/http/http_errors.h"

#include <cmath>

#include "absl/status/status.h"
#include "client/lib/heed_client.h"
#include "nlohmann/json.hpp"

namespace heed::server {
namespace {

// gRPC's codes and absl's share their numbering and names.
std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::CANCELLED:
      return 499;  // the client went away (nginx's convention)
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

HttpError HttpErrorOf(const grpc::Status& status) {
  HttpError error;
  error.status = HttpStatusOf(status.error_code());
  nlohmann::json body = {{"error", status.error_message()},
                         {"code", CodeName(status.error_code())}};
  // The details as any gRPC client reads them.
  const client::ErrorDetails details = client::DetailsOf(client::FromGrpcStatus(status));
  if (!details.reason.empty()) body["reason"] = details.reason;
  if (!details.metadata.empty()) body["metadata"] = details.metadata;
  if (!details.field_violations.empty()) {
    nlohmann::json violations = nlohmann::json::array();
    for (const auto& [field, description] : details.field_violations) {
      violations.push_back({{"field", field}, {"description", description}});
    }
    body["field_violations"] = std::move(violations);
  }
  if (details.retry_delay) {
    const double seconds = absl::ToDoubleSeconds(*details.retry_delay);
    body["retry_delay_seconds"] = seconds;
    error.retry_after_seconds = std::max(1, static_cast<int>(std::ceil(seconds)));
  }
  // The same text through any bytes: invalid UTF-8 in a message is replaced.
  error.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return error;
}

}  // namespace heed::server
