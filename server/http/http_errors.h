// How a gRPC status reads over HTTP: the status code (400, 401, 404, 429,
// 503, 504, ...), a Retry-After header where the server said when to retry,
// and a JSON body with the code, the message and the google.rpc details.
#ifndef HEED_SERVER_HTTP_HTTP_ERRORS_H_
#define HEED_SERVER_HTTP_HTTP_ERRORS_H_

#include <optional>
#include <string>

#include "grpcpp/support/status.h"

namespace heed::server {

int HttpStatusOf(grpc::StatusCode code);

struct HttpError {
  int status = 500;
  // Whole seconds, rounded up (at least 1), for the Retry-After header.
  std::optional<int> retry_after_seconds;
  // {"error": message, "code": "QUEUE_FULL"-style gRPC code name, "reason",
  //  "metadata", "field_violations": [{"field", "description"}],
  //  "retry_delay_seconds"}; the reason and details only where the server
  // sent them. "error" is what Hugging Face clients print.
  std::string body;
};
HttpError HttpErrorOf(const grpc::Status& status);

}  // namespace heed::server

#endif  // HEED_SERVER_HTTP_HTTP_ERRORS_H_
