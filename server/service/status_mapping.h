// The one translation from absl::Status (core's error type) to grpc::Status.
// Handlers never invent codes: the canonical codes map one to one.
#ifndef HEED_SERVER_SERVICE_STATUS_MAPPING_H_
#define HEED_SERVER_SERVICE_STATUS_MAPPING_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace heed::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace heed::server

#endif  // HEED_SERVER_SERVICE_STATUS_MAPPING_H_
