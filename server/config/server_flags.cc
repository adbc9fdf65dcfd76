#include "server/config/server_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

ABSL_FLAG(std::string, grpc_address, "127.0.0.1:50051",
          "host:port the gRPC server listens on; port 0 picks a free port.");
ABSL_FLAG(std::string, metrics_address, "127.0.0.1:9464",
          "host:port of the Prometheus /metrics endpoint; empty disables it; "
          "port 0 picks a free port.");
ABSL_FLAG(std::string, models_dir, "models",
          "Directory whose subdirectories are Hugging Face model directories.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "After SIGTERM/SIGINT, how long in-flight calls may finish before "
          "they are cancelled.");
ABSL_FLAG(int, max_message_bytes, 4 << 20,
          "Largest gRPC request or response message in bytes.");

namespace heed::server {

absl::StatusOr<ServerOptions> ServerOptionsFromFlags() {
  ServerOptions options;
  options.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.models_dir = absl::GetFlag(FLAGS_models_dir);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  if (options.grpc_address.empty()) {
    return absl::InvalidArgumentError("--grpc_address must not be empty");
  }
  if (options.shutdown_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--shutdown_grace must not be negative");
  }
  if (options.max_message_bytes < 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_message_bytes must be at least 1024, got ",
                     options.max_message_bytes));
  }
  return options;
}

}  // namespace heed::server
