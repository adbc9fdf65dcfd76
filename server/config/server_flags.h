// Command-line flags of heed-server and their translation into ServerOptions.
#ifndef HEED_SERVER_CONFIG_SERVER_FLAGS_H_
#define HEED_SERVER_CONFIG_SERVER_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/config/server_options.h"

namespace heed::server {

// Reads the parsed flags (absl::ParseCommandLine must have run).
absl::StatusOr<ServerOptions> ServerOptionsFromFlags();

// --isa: the instruction-set ceiling, or empty. main() exports it as HEED_ISA
// before anything reads the ceiling (core/cpu decides it once per process).
std::string IsaFlag();

}  // namespace heed::server

#endif  // HEED_SERVER_CONFIG_SERVER_FLAGS_H_
