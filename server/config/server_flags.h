// Command-line flags of heed-server and their translation into ServerOptions.
#ifndef HEED_SERVER_CONFIG_SERVER_FLAGS_H_
#define HEED_SERVER_CONFIG_SERVER_FLAGS_H_

#include "absl/status/statusor.h"
#include "server/config/server_options.h"

namespace heed::server {

// Reads the parsed flags (absl::ParseCommandLine must have run).
absl::StatusOr<ServerOptions> ServerOptionsFromFlags();

}  // namespace heed::server

#endif  // HEED_SERVER_CONFIG_SERVER_FLAGS_H_
